"""The node's chain on LevelDB: extending, fork candidates, switching both ways, the fork window,
invalid blocks remembered, blocks arriving out of order."""

from dataclasses import replace
from pathlib import Path

from node.chain import ChainManager, Outcome
from node.store import LevelStore
from protocol.crypto import Hash
from tests.protocol.chain_builder import Chain, chain_parameters


def twins(common: int, params_changes: dict[str, int] | None = None) -> tuple[Chain, Chain]:
    """Two chains with the same genesis and `common` identical blocks."""
    params = chain_parameters(**(params_changes or {}))
    a, b = Chain(founders=4, params=params), Chain(founders=4, params=params)
    for _ in range(common):
        a.write()
        b.write()
    assert a.blocks[-1] == b.blocks[-1]
    return a, b


def grow(chain: Chain, count: int, issuer: str, step: int) -> None:
    for _ in range(count):
        head = chain.state.head()
        assert head is not None
        chain.write(issuer=issuer, time=head.median_time + step)


def node(tmp_path: Path, chain: Chain) -> ChainManager:
    manager = ChainManager(LevelStore.open(tmp_path / "db"), genesis_hash=chain.blocks[0].hash)
    return manager


def test_extends_and_knows_its_blocks(tmp_path: Path) -> None:
    a, _b = twins(5)
    manager = node(tmp_path, a)
    assert [manager.add_block(block).outcome for block in a.blocks] == [Outcome.APPLIED] * 6
    assert manager.add_block(a.blocks[3]).outcome is Outcome.KNOWN
    assert manager.head() == (5, a.blocks[5].hash, a.blocks[5].state_digest)


def test_other_currency_genesis_is_refused(tmp_path: Path) -> None:
    a, _b = twins(0)
    manager = ChainManager(LevelStore.open(tmp_path / "db"), genesis_hash=Hash(bytes(32)))
    assert manager.add_block(a.blocks[0]).outcome is Outcome.INVALID


def test_switches_to_a_longer_branch_and_back(tmp_path: Path) -> None:
    a, b = twins(5)
    grow(a, 3, "alice", 200)
    grow(b, 6, "bob", 200)
    manager = node(tmp_path, a)
    for block in a.blocks:
        manager.add_block(block)
    outcomes = [manager.add_block(block).outcome for block in b.blocks[6:]]
    assert outcomes[:3] == [Outcome.CANDIDATE] * 3  # not 3 blocks ahead yet
    assert Outcome.SWITCHED in outcomes
    assert manager.head() == (b.blocks[-1].number, b.blocks[-1].hash, b.blocks[-1].state_digest)
    grow(a, 6, "alice", 200)  # the old branch overtakes by 3 blocks: back to it
    results = [manager.add_block(block).outcome for block in a.blocks[9:]]
    assert Outcome.SWITCHED in results
    assert manager.head() == (a.blocks[-1].number, a.blocks[-1].hash, a.blocks[-1].state_digest)


def test_three_three_rule_needs_median_time_too(tmp_path: Path) -> None:
    a, b = twins(5)
    grow(a, 1, "alice", 200)
    grow(b, 6, "bob", 1)  # longer, but its median time barely moves
    manager = node(tmp_path, a)
    for block in a.blocks + b.blocks[6:]:
        manager.add_block(block)
    assert manager.head()[1] == a.blocks[-1].hash  # type: ignore[index]


def test_branch_beyond_the_fork_window_is_refused(tmp_path: Path) -> None:
    a, b = twins(2, {"fork_window_size": 4})
    grow(a, 8, "alice", 200)
    grow(b, 14, "bob", 200)
    manager = node(tmp_path, a)
    for block in a.blocks:
        manager.add_block(block)
    outcomes = {manager.add_block(block).outcome for block in b.blocks[3:]}
    assert Outcome.SWITCHED not in outcomes
    assert Outcome.TOO_OLD in outcomes
    assert manager.head()[1] == a.blocks[-1].hash  # type: ignore[index]


def test_invalid_branch_block_is_remembered(tmp_path: Path) -> None:
    a, b = twins(5)
    grow(a, 2, "alice", 200)
    grow(b, 7, "bob", 200)
    bad = replace(b.blocks[-1], members_count=99)
    bad = bad.signed(b.keys["bob"], bad.nonce)
    manager = node(tmp_path, a)
    for block in a.blocks:
        manager.add_block(block)
    for block in b.blocks[6:-1]:
        manager.add_block(block)
    manager.add_block(bad)  # makes the branch the longest: validated, found invalid
    assert manager.add_block(bad).outcome is Outcome.INVALID
    assert manager.head()[1] in (a.blocks[-1].hash, b.blocks[-2].hash)  # type: ignore[index]
    assert manager.add_block(b.blocks[-1]).outcome in (Outcome.APPLIED, Outcome.SWITCHED)
    assert manager.head()[1] == b.blocks[-1].hash  # type: ignore[index]


def test_invalid_next_block_is_rejected_and_remembered(tmp_path: Path) -> None:
    a, _b = twins(3)
    manager = node(tmp_path, a)
    for block in a.blocks:
        manager.add_block(block)
    draft = a.block()
    tampered = replace(draft, members_count=7).signed(a.keys["alice"], draft.nonce)
    first = manager.add_block(tampered)
    assert (first.outcome is Outcome.INVALID and "BR_G" in first.reason) or "check" in first.reason
    assert manager.add_block(tampered).outcome is Outcome.INVALID
    assert manager.add_block(draft).outcome is Outcome.APPLIED


def test_blocks_arriving_before_their_parent_are_orphans_not_kept(tmp_path: Path) -> None:
    a, _b = twins(6)
    manager = node(tmp_path, a)
    manager.add_block(a.blocks[0])
    outcomes = [manager.add_block(block).outcome for block in reversed(a.blocks[1:])]
    assert outcomes == [Outcome.ORPHAN] * 5 + [Outcome.APPLIED]  # the caller syncs the rest
    assert manager.store.fork_candidates() == []
    assert [manager.add_block(block).outcome for block in a.blocks[2:]] == [Outcome.APPLIED] * 5
    assert manager.head() == (6, a.blocks[6].hash, a.blocks[6].state_digest)


def test_a_tying_branch_with_a_lower_head_hash_is_the_rival_to_yield_to(tmp_path: Path) -> None:
    a, b = twins(3)
    grow(a, 1, "alice", 20)
    grow(b, 1, "bob", 20)
    low, high = sorted([a, b], key=lambda chain: chain.blocks[-1].hash)
    mine = node(tmp_path / "high", high)
    for block in high.blocks:
        mine.add_block(block)
    assert mine.rival_head() is None  # no rival known yet
    assert mine.add_block(low.blocks[-1]).outcome is Outcome.CANDIDATE  # same height: no switch
    assert mine.rival_head() == low.blocks[-1]
    theirs = node(tmp_path / "low", low)
    for block in [*low.blocks, high.blocks[-1]]:
        theirs.add_block(block)
    assert theirs.rival_head() is None  # the lower head hash keeps forging
