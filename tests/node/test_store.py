"""The LevelDB store against the in-memory state: same digests, same answers, exact reverts.

One conformance check runs every `StateView` question on `MemoryState`, `LevelStore` and
`StackedState` after the same history.
"""

import threading
from pathlib import Path

import pytest

from node.errors import DataDirError, StoreError
from node.store import LevelStore, schema
from protocol.rules.block import validate_block
from protocol.state import MemoryState, StateView
from protocol.state.stack import StackedState
from protocol.wot.graph import WebOfTrust
from tests.protocol.chain_builder import NAMES, Chain
from tests.protocol.rules.test_chain_simulation import Simulation

WINDOW = 100


@pytest.fixture(scope="module")
def history() -> Chain:
    simulation = Simulation(5)
    for _ in range(150):
        simulation.step()
    return simulation.chain


def replay(store: LevelStore, chain: Chain, upto: int | None = None) -> None:
    for block in chain.blocks[:upto]:
        delta = validate_block(store, block)
        store.apply_block(block, delta, fork_window=WINDOW)


def replay_from(store: LevelStore, chain: Chain, start: int, stop: int) -> None:
    for block in chain.blocks[start:stop]:
        store.apply_block(block, validate_block(store, block), fork_window=WINDOW)


def answers(view: StateView, chain: Chain) -> dict[str, object]:
    """Every question the rules ask, over every key the history used."""
    keys = [chain.key(n) for n in NAMES]
    head = view.head()
    assert head is not None
    conditions = sorted({o.condition for b in chain.blocks for t in b.transactions for o in t.outputs})
    times = [head.median_time - 86400 * d for d in (-400, -30, 0, 30)]
    return {
        "chain": view.chain(),
        "head": head,
        "summaries": [view.block_summary(n) for n in range(head.number + 2)],
        "hashes": [view.block_hash(n) for n in range(head.number + 2)],
        "digest": view.state_digest(),
        "identities": [view.identity(k) for k in keys],
        "uids": [view.key_of_uid(n) for n in NAMES],
        "memberships": [view.membership(k) for k in keys],
        "certifications": sorted(view.all_certifications()),
        "certifiers": [sorted(view.certifiers_of(k)) for k in keys],
        "certified": [sorted(view.certified_by(k)) for k in keys],
        "members": sorted(view.members()),
        "kicked": sorted(view.members_to_kick()),
        "expiring": [sorted(view.certifications_expiring(t)) for t in times],
        "memberships_expiring": [sorted(view.memberships_expiring(t)) for t in times],
        "revoking": [sorted(view.memberships_revoking(t)) for t in times],
        "accounts": [sorted(map(repr, view.sources_of(c))) for c in conditions],
        "balances": [view.balance(c) for c in conditions],
        "rights": [view.rights(k) for k in keys],
        "dividends": [view.last_dividend(n) for n in range(head.number + 2)],
        "dividend blocks": list(view.dividend_numbers(0, head.number + 2)),
        "sources": [[view.source(s) for s in sorted(view.sources_of(c), key=repr)] for c in conditions],
    }


def test_level_store_matches_memory_state(tmp_path: Path, history: Chain) -> None:
    store = LevelStore.open(tmp_path / "db")
    replay(store, history)
    assert store.head_pointer() == (
        history.blocks[-1].number,
        history.blocks[-1].hash,
        history.blocks[-1].state_digest,
    )
    assert answers(store, history) == answers(history.state, history)
    for block in history.blocks:
        assert store.digest_at(block.number) == block.state_digest
        assert store.block(block.number) == block
        assert store.number_of(block.hash) == block.number
    assert store.genesis_hash() == history.blocks[0].hash


def test_revert_restores_every_earlier_state(tmp_path: Path, history: Chain) -> None:
    store = LevelStore.open(tmp_path / "db")
    replay(store, history, upto=60)
    memory = MemoryState()
    for block, delta in zip(history.blocks[:40], history.deltas[:40], strict=True):
        memory.apply(delta, block.hash)
    while store.head_pointer()[0] > 39:  # type: ignore[index]
        reverted = store.revert_head()
        assert store.head_pointer()[2] == history.blocks[reverted.number - 1].state_digest  # type: ignore[index]
    partial = Chain.__new__(Chain)
    partial.__dict__.update(history.__dict__)
    partial.blocks = history.blocks[:40]
    assert answers(store, partial) == answers(memory, partial)
    replay_from = history.blocks[40:60]
    for block in replay_from:
        store.apply_block(block, validate_block(store, block), fork_window=WINDOW)
    assert store.state_digest() == history.blocks[59].state_digest


def test_stacked_state_reverts_in_memory_like_the_store(tmp_path: Path, history: Chain) -> None:
    store = LevelStore.open(tmp_path / "db")
    replay(store, history, upto=80)
    stacked = StackedState(store)
    for number in range(79, 49, -1):
        delta = store.undo_record(number)
        assert delta is not None
        stacked.revert(delta)
    assert stacked.state_digest() == history.blocks[49].state_digest
    for block in history.blocks[50:80]:
        stacked.apply(validate_block(stacked, block), block.hash)
    assert stacked.state_digest() == history.blocks[79].state_digest
    partial = Chain.__new__(Chain)
    partial.__dict__.update(history.__dict__)
    partial.blocks = history.blocks[:80]
    assert answers(stacked, partial) == answers(store, partial)


def test_replace_branch_is_one_batch(tmp_path: Path, history: Chain) -> None:
    store = LevelStore.open(tmp_path / "db")
    replay(store, history, upto=70)
    stacked = StackedState(store)
    for number in range(69, 59, -1):
        stacked.revert(store.undo_record(number))  # type: ignore[arg-type]
    branch = []
    for block in history.blocks[60:75]:
        delta = validate_block(stacked, block)
        stacked.apply(delta, block.hash)
        branch.append((block, delta))
    store.replace_branch(10, branch, fork_window=WINDOW)
    assert store.head_pointer() == (74, history.blocks[74].hash, history.blocks[74].state_digest)
    assert store.block(74) == history.blocks[74]


def test_a_branch_switch_leaves_the_answers_of_the_new_branch(tmp_path: Path, history: Chain) -> None:
    """Blocks 60… replaced by a different branch: every answer (summaries included, which the store
    caches) is the new branch's."""
    store = LevelStore.open(tmp_path / "db")
    replay(store, history, upto=70)
    for number in range(60, 70):
        store.block_summary(number)  # cached from the old branch
    fork = Simulation(5)
    while len(fork.chain.blocks) < 60:
        fork.step()
    for _ in range(12):
        head = fork.chain.state.head()
        assert head is not None
        fork.chain.write(issuer="alice", time=head.median_time + 7)
    branch = list(zip(fork.chain.blocks[60:], fork.chain.deltas[60:], strict=True))
    assert branch[0][0].hash != history.blocks[60].hash
    graph = store.web_of_trust()  # built now, then moved by the switch rather than rebuilt
    store.replace_branch(10, branch, fork_window=WINDOW)
    assert answers(store, fork.chain) == answers(fork.chain.state, fork.chain)
    assert store.web_of_trust() is graph and graph.digest == store.state_digest()
    rebuilt = WebOfTrust.build(store)
    assert (graph.links(), graph.members()) == (rebuilt.links(), rebuilt.members())


def test_another_thread_gets_a_copy_of_the_graph(tmp_path: Path, history: Chain) -> None:
    """The thread writing blocks validates on the live graph; a reader on another thread (the API
    while a worker applies) gets a copy that a write cannot change under it."""
    store = LevelStore.open(tmp_path / "db")
    replay(store, history, upto=40)
    live = store.web_of_trust()
    seen: list[WebOfTrust] = []
    reader = threading.Thread(target=lambda: seen.append(store.web_of_trust()))
    reader.start()
    reader.join()
    assert seen[0] is not live and seen[0].links() == live.links()
    replay_from(store, history, 40, 45)
    assert store.web_of_trust() is live and live.digest == store.state_digest()


def test_old_undo_records_are_pruned(tmp_path: Path, history: Chain) -> None:
    store = LevelStore.open(tmp_path / "db")
    for block in history.blocks[:30]:
        store.apply_block(block, validate_block(store, block), fork_window=10)
    assert store.undo_record(29 - 10) is not None
    assert store.undo_record(29 - 12) is None
    for _ in range(11):
        store.revert_head()
    with pytest.raises(StoreError, match="no undo record"):
        store.revert_head()


def test_blocks_must_follow_the_head(tmp_path: Path, history: Chain) -> None:
    store = LevelStore.open(tmp_path / "db")
    replay(store, history, upto=5)
    block = history.blocks[6]
    with pytest.raises(StoreError, match="does not follow"):
        store.apply_block(block, history.deltas[6], fork_window=WINDOW)


def test_newer_format_is_refused(tmp_path: Path) -> None:
    store = LevelStore.open(tmp_path / "db")
    store.db.put(schema.META_FORMAT, b"99")
    store.close()
    with pytest.raises(DataDirError, match="format 99"):
        LevelStore.open(tmp_path / "db")


def test_invalid_blocks_remembered_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("node.store.level.MAX_INVALID_BLOCKS", 5)
    store = LevelStore.open(tmp_path / "db")
    hashes = [bytes([n]) * 32 for n in range(8)]
    for n, block_hash in enumerate(hashes):
        store.remember_invalid(block_hash, f"reason {n}")
    store.remember_invalid(hashes[-1], "again")  # already known: no new entry
    assert [store.invalid_reason(h) for h in hashes] == [None] * 3 + [f"reason {n}" for n in range(3, 8)]
    store.close()
    reopened = LevelStore.open(tmp_path / "db")
    reopened.remember_invalid(bytes([9]) * 32, "after a restart")
    assert reopened.invalid_reason(hashes[3]) is None and reopened.invalid_reason(hashes[4]) == "reason 4"
    reopened.close()


def test_the_summary_cache_stays_bounded_and_answers_right(
    tmp_path: Path, history: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk over the whole chain (the web interface's charts do one) keeps the cache at its bound
    and every answer equals the memory state's."""
    import node.store.level as level

    memory = MemoryState()
    for block in history.blocks:
        memory.apply(validate_block(memory, block), block.hash)
    store = LevelStore.open(tmp_path / "db")
    try:
        replay(store, history)
        monkeypatch.setattr(level, "SUMMARY_CACHE_SIZE", 7)
        store._summaries.clear()
        for _ in range(2):
            for number in range(len(history.blocks)):
                assert store.block_summary(number) == memory.block_summary(number)
                assert len(store._summaries) <= 7
    finally:
        store.close()
