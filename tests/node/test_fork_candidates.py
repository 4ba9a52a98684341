"""Fork candidates are kept only if they could become the chain: parent known within the fork
window, issuer a member at the parent, proof of work meeting the issuer's difficulty there, a valid
signature; bounded per peer and in total; junk found on disk is deleted at start-up."""

import os
from dataclasses import replace
from pathlib import Path

import pytest

from node.chain import SOURCE_MARGIN, ChainManager, Outcome
from node.store import LevelStore
from protocol.crypto import Hash
from protocol.documents import Block
from protocol.forge import required_difficulty
from protocol.keys import Keypair
from protocol.rules.production import is_hash_valid
from tests.protocol.chain_builder import Chain, chain_parameters

WINDOW = 4  # a small fork window: its bounds are reached with a few dozen blocks


def twins(common: int, window: int = 100) -> tuple[Chain, Chain]:
    """Two chains with the same genesis and `common` identical blocks."""
    params = chain_parameters(fork_window_size=window)
    a, b = Chain(founders=5, params=params), Chain(founders=5, params=params)
    for _ in range(common):
        head = a.state.head()
        assert head is not None
        a.write(time=head.median_time + 100)  # past sigPeriod soon: newcomers can be certified
        b.write(time=head.median_time + 100)
    assert a.blocks[-1] == b.blocks[-1]
    return a, b


def grow(chain: Chain, count: int, issuer: str, step: int = 200) -> None:
    for _ in range(count):
        head = chain.state.head()
        assert head is not None
        chain.write(issuer=issuer, time=head.median_time + step)


def node(path: Path, chain: Chain, upto: int | None = None) -> ChainManager:
    manager = ChainManager(LevelStore.open(path / "db"), genesis_hash=chain.blocks[0].hash)
    for block in chain.blocks[:upto]:
        assert manager.add_block(block).outcome is Outcome.APPLIED
    return manager


def on_random_parent(block: Block, keypair: Keypair) -> Block:
    """`block` moved onto a parent nobody knows, issued and signed by `keypair`."""
    moved = replace(block, issuer=keypair.public_key, previous_hash=Hash(os.urandom(32)))
    return moved.signed(keypair, moved.nonce)


def siblings(chain: Chain, count: int, issuer: str = "bob") -> list[Block]:
    """`count` different blocks on the head of `chain` (not added to it), one second apart."""
    head = chain.state.head()
    assert head is not None
    return [chain.block(issuer=issuer, time=head.time + 100 + i) for i in range(count)]


def stored(manager: ChainManager) -> set[bytes]:
    return {bytes(block.hash) for block in manager.store.fork_candidates()}


def test_non_member_on_a_random_parent_is_junk_and_not_stored(tmp_path: Path) -> None:
    a, _b = twins(3)
    manager = node(tmp_path, a)
    junk = on_random_parent(a.block(), Keypair(os.urandom(32)))
    result = manager.add_block(junk, source="peer")
    assert result.outcome is Outcome.JUNK and "not a member" in result.reason
    assert stored(manager) == set()


def test_member_on_an_unknown_parent_is_an_orphan_not_stored(tmp_path: Path) -> None:
    a, _b = twins(3)
    manager = node(tmp_path, a)
    orphan = on_random_parent(a.block(), a.keys["bob"])
    assert manager.add_block(orphan, source="peer").outcome is Outcome.ORPHAN
    assert stored(manager) == set()
    assert manager.store.invalid_reason(orphan.hash) is None  # it may be fine on its own branch
    badly_signed = replace(orphan, signature=a.keys["bob"].sign(b"something else"))
    assert manager.add_block(badly_signed, source="peer").outcome is Outcome.JUNK


def test_a_parent_beyond_the_fork_window_is_too_old(tmp_path: Path) -> None:
    a, b = twins(2, window=WINDOW)
    grow(a, WINDOW + 2, "alice")
    grow(b, 2, "bob")
    manager = node(tmp_path, a)
    for block in b.blocks[3:]:  # they fork at block 2, the head is 8: no revert goes that far
        assert manager.add_block(block, source="peer").outcome is Outcome.TOO_OLD
    assert stored(manager) == set()


def test_proof_of_work_short_of_the_issuers_difficulty_is_junk(tmp_path: Path) -> None:
    a, b = twins(3)
    grow(a, 2, "alice")
    grow(b, 1, "bob")  # alice forged most of the frame: her difficulty has a handicap
    draft = b.block(issuer="alice")
    difficulty = required_difficulty(b.state, draft)
    assert difficulty > 0
    nonce = next(n for n in range(1000) if not is_hash_valid(replace(draft, nonce=n).hash, difficulty))
    weak = draft.signed(b.keys["alice"], nonce)
    manager = node(tmp_path, a)
    for block in b.blocks[4:]:
        assert manager.add_block(block, source="peer").outcome is Outcome.CANDIDATE
    result = manager.add_block(weak, source="peer")
    assert result.outcome is Outcome.JUNK and "BR_G62" in result.reason
    assert bytes(weak.hash) not in stored(manager)
    assert manager.store.invalid_reason(weak.hash) is not None  # certain: never examined again
    assert manager.add_block(weak).outcome is Outcome.INVALID


def test_a_bad_signature_is_junk_but_the_well_signed_block_stays_welcome(tmp_path: Path) -> None:
    a, b = twins(3)
    grow(a, 2, "alice")
    grow(b, 1, "bob")
    manager = node(tmp_path, a)
    real = b.blocks[-1]
    forged = replace(real, signature=b.keys["bob"].sign(b"not this block"))
    result = manager.add_block(forged, source="liar")
    assert result.outcome is Outcome.JUNK and "signature" in result.reason
    assert stored(manager) == set()
    assert manager.add_block(real, source="peer").outcome is Outcome.CANDIDATE


def test_a_badly_signed_next_block_does_not_poison_the_real_one(tmp_path: Path) -> None:
    a, _b = twins(3)
    manager = node(tmp_path, a)
    real = a.block()
    forged = replace(real, signature=a.keys["alice"].sign(b"not this block"))
    assert manager.add_block(forged, source="liar").outcome is Outcome.INVALID
    assert manager.add_block(real, source="peer").outcome is Outcome.APPLIED


def test_an_issuer_who_joined_after_the_fork_point_is_junk_there(tmp_path: Path) -> None:
    a, b = twins(3)
    head = a.state.head()
    assert head is not None
    a.write(
        time=head.median_time + 100,
        identities=[a.identity("frank")],
        joiners=[a.membership("frank")],
        certifications=[a.cert(n, "frank") for n in ("alice", "bob", "carol")],
    )
    grow(a, 1, "frank")
    manager = node(tmp_path, a)  # frank is a member at the head, since block 4
    early = b.block(issuer="frank")  # on block 3, where frank is nobody
    result = manager.add_block(early, source="peer")
    assert result.outcome is Outcome.JUNK and "not a member at block 3" in result.reason
    assert stored(manager) == set()


def test_a_newcomer_of_a_branch_forges_on_it(tmp_path: Path) -> None:
    a, b = twins(3)
    grow(a, 2, "alice")
    head = b.state.head()
    assert head is not None
    b.write(
        time=head.median_time + 100,
        identities=[b.identity("frank")],
        joiners=[b.membership("frank")],
        certifications=[b.cert(n, "frank") for n in ("alice", "bob", "carol")],
    )
    grow(b, 1, "frank")
    manager = node(tmp_path, a)  # frank is unknown at this head
    outcomes = [manager.add_block(block, source="peer").outcome for block in b.blocks[4:]]
    assert outcomes == [Outcome.CANDIDATE, Outcome.CANDIDATE]


def test_a_real_competing_branch_is_kept_then_switched_to(tmp_path: Path) -> None:
    a, b = twins(5)
    grow(a, 3, "alice")
    grow(b, 6, "bob")
    manager = node(tmp_path, a)
    outcomes = [manager.add_block(block, source="peer").outcome for block in b.blocks[6:]]
    assert outcomes[:3] == [Outcome.CANDIDATE] * 3
    assert outcomes[-1] is Outcome.SWITCHED
    assert manager.head() == (b.blocks[-1].number, b.blocks[-1].hash, b.blocks[-1].state_digest)
    assert stored(manager) == {bytes(block.hash) for block in a.blocks[6:]}  # the old branch
    grow(a, 6, "alice")  # and back, from the reverted blocks kept as candidates
    results = [manager.add_block(block, source="other").outcome for block in a.blocks[9:]]
    assert Outcome.SWITCHED in results
    assert manager.head() == (a.blocks[-1].number, a.blocks[-1].hash, a.blocks[-1].state_digest)


def test_candidates_are_bounded_per_peer(tmp_path: Path) -> None:
    a, b = twins(3, window=WINDOW)
    grow(a, 1, "alice")
    manager = node(tmp_path, a)
    total, per_peer = manager.candidate_bounds()
    assert (total, per_peer) == (10 * WINDOW, WINDOW + SOURCE_MARGIN)
    blocks = siblings(b, per_peer + 2)
    outcomes = [manager.add_block(block, source="greedy").outcome for block in blocks[:per_peer]]
    assert outcomes == [Outcome.CANDIDATE] * per_peer
    result = manager.add_block(blocks[per_peer], source="greedy")
    assert result.outcome is Outcome.JUNK and "from one peer" in result.reason
    assert manager.store.invalid_reason(blocks[per_peer].hash) is None  # fine from anyone else
    assert manager.add_block(blocks[per_peer], source="modest").outcome is Outcome.CANDIDATE
    assert manager.add_block(blocks[per_peer + 1]).outcome is Outcome.CANDIDATE  # this node's own
    assert len(stored(manager)) == per_peer + 2


def test_at_the_total_bound_the_lowest_branch_makes_room_for_a_longer_one(tmp_path: Path) -> None:
    a, b = twins(3, window=WINDOW)
    grow(a, 1, "alice")
    manager = node(tmp_path, a)
    total, per_peer = manager.candidate_bounds()
    blocks = siblings(b, total + 1)
    for index, block in enumerate(blocks[:total]):
        assert manager.add_block(block, source=f"peer{index // per_peer}").outcome is Outcome.CANDIDATE
    assert manager.add_block(blocks[total], source="late").outcome is Outcome.DROPPED
    b.add(blocks[0])
    longer = b.block(issuer="carol")  # one block further: the fork rule would prefer it
    assert manager.add_block(longer, source="late").outcome is Outcome.CANDIDATE
    kept = stored(manager)
    assert len(kept) == total and bytes(longer.hash) in kept and bytes(blocks[0].hash) in kept


def test_extending_the_head_reads_no_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = twins(3)
    grow(a, 3, "alice")
    manager = node(tmp_path, a, upto=5)
    for block in siblings(b, 20):
        assert manager.add_block(block, source="peer").outcome is Outcome.CANDIDATE

    def no_reading(*_args: object) -> None:
        raise AssertionError("a candidate was read from disk")

    monkeypatch.setattr(manager.store, "fork_candidates", no_reading)
    monkeypatch.setattr(manager.store, "fork_candidate", no_reading)
    assert manager.add_block(a.blocks[5]).outcome is Outcome.APPLIED
    assert manager.add_block(a.blocks[6]).outcome is Outcome.APPLIED


def test_candidates_leave_with_the_fork_window(tmp_path: Path) -> None:
    a, b = twins(3, window=WINDOW)
    grow(a, 1, "alice")
    manager = node(tmp_path, a)
    for block in siblings(b, 3):
        assert manager.add_block(block, source="peer").outcome is Outcome.CANDIDATE
    grow(a, WINDOW, "alice")
    for block in a.blocks[5:]:
        assert manager.add_block(block).outcome is Outcome.APPLIED
    assert stored(manager) == set()


def test_junk_already_on_disk_is_deleted_at_start_up(tmp_path: Path) -> None:
    a, b = twins(3)
    grow(a, 2, "alice")
    grow(b, 2, "bob")
    manager = node(tmp_path, a)
    real = b.blocks[4:]
    draft = b.block(issuer="alice")
    difficulty = required_difficulty(b.state, draft)
    assert difficulty > 0
    weak = next(
        draft.signed(b.keys["alice"], n)
        for n in range(1000)
        if not is_hash_valid(replace(draft, nonce=n).hash, difficulty)
    )
    nobody = Keypair(os.urandom(32))
    junk = [
        on_random_parent(a.block(), nobody),  # nobody, nowhere
        on_random_parent(a.block(), a.keys["bob"]),  # a member, on a parent nobody knows
        replace(b.blocks[4], issuer=nobody.public_key).signed(nobody, 0),  # nobody, on a real parent
        weak,  # a member on a real parent, short of her difficulty
    ]
    for block in [*real, *junk]:
        manager.store.put_fork_candidate(block)  # as an older June kept them
    manager.store.close()

    restarted = ChainManager(LevelStore.open(tmp_path / "db"), genesis_hash=a.blocks[0].hash)
    assert restarted.add_block(a.blocks[-1]).outcome is Outcome.KNOWN  # first use: the clean-up
    assert stored(restarted) == {bytes(block.hash) for block in real}
    assert restarted.add_block(real[-1]).outcome is Outcome.KNOWN
