"""Blocks applied off the event loop: the chain's work runs in a worker thread, one writer at a
time, while the loop goes on; a cancelled caller leaves no half-applied block; a run of blocks is
validated in memory and written in synced batches, the head moving only with a batch."""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

import node.chain
from node.chain import ChainBusy, ChainManager, Outcome
from node.clock import Clock
from node.datadir import open_store
from node.intake import BlockIntake
from node.store import LevelStore
from protocol.documents import Block
from protocol.rules.block import validate_block
from protocol.state import StateView
from protocol.state.delta import Delta
from tests.node.test_p2p_sync import datadir
from tests.protocol.chain_builder import Chain

Validate = Callable[..., Delta]


class Setup:
    def __init__(self, chain: Chain, store: LevelStore, intake: BlockIntake, later: list[Block]) -> None:
        self.chain, self.store, self.intake, self.later = chain, store, intake, later
        self.head_changes = 0
        intake.on_head_change.append(self._changed)

    def _changed(self) -> None:
        self.head_changes += 1


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """A node's intake at block 1, and 5 later blocks to give it."""
    chain = Chain(founders=5)
    chain.write()
    for _ in range(5):
        chain.write()
    _config, store = open_store(datadir(tmp_path / "node", chain.blocks[:2]))
    clock = Clock()
    clock.offset = chain.blocks[-1].time + 1000 - clock.now()
    yield Setup(chain, store, BlockIntake(ChainManager(store), clock), chain.blocks[2:])
    store.close()


class Gate:
    """Holds `validate_block` (in the worker thread) at a given block until opened; records the
    threads and the number of validations running at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, hold_at: int) -> None:
        self.hold_at = hold_at
        self.reached = threading.Event()
        self.opened = threading.Event()
        self.threads: set[int] = set()
        self.running = 0
        self.most = 0
        self._count = threading.Lock()
        self._real: Validate = validate_block
        monkeypatch.setattr(node.chain, "validate_block", self.validate)

    def validate(self, view: StateView, block: Block, **options: Any) -> Delta:
        with self._count:
            self.running += 1
            self.most = max(self.most, self.running)
        self.threads.add(threading.get_ident())
        try:
            if block.number == self.hold_at:
                self.reached.set()
                assert self.opened.wait(10), "the gate was never opened"
            return self._real(view, block, **options)
        finally:
            with self._count:
                self.running -= 1

    async def wait_reached(self) -> None:
        with trio.fail_after(10):
            while not self.reached.is_set():
                await trio.sleep(0.01)


async def test_a_block_is_applied_in_a_worker_thread_while_the_loop_runs(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch, hold_at=2)
    block = setup.later[0]
    ticks = 0
    async with trio.open_nursery() as nursery:
        results = []

        async def receive() -> None:
            results.append(await setup.intake.receive(block, "peer"))

        nursery.start_soon(receive)
        await gate.wait_reached()
        for _ in range(20):  # the loop goes on while the block is being validated
            await trio.sleep(0.001)
            ticks += 1
        assert setup.store.head_pointer() is not None
        assert setup.store.head_pointer()[0] == 1  # type: ignore[index]  # not applied yet
        gate.opened.set()
    assert ticks == 20
    assert [r.outcome for r in results] == [Outcome.APPLIED]
    assert threading.get_ident() not in gate.threads
    assert setup.head_changes == 1


async def test_one_writer_at_a_time(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch, hold_at=2)
    outcomes: list[Outcome] = []

    async def batch() -> None:
        outcomes.extend(r.outcome for r in await setup.intake.take_batch(setup.later[:3], "peer"))

    async def gossip(block: Block) -> None:
        outcomes.append((await setup.intake.receive(block, "peer")).outcome)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(batch)
        await gate.wait_reached()
        nursery.start_soon(gossip, setup.later[3])  # waits for the batch: it follows its last block
        nursery.start_soon(gossip, setup.later[1])  # in the batch: known by the time it is taken
        await trio.sleep(0.05)
        gate.opened.set()
    assert gate.most == 1
    assert sorted(outcomes) == sorted([Outcome.APPLIED] * 4 + [Outcome.KNOWN])
    head = setup.store.head_pointer()
    assert head is not None and head[0] == 5


async def test_the_forger_is_told_the_chain_is_busy_rather_than_blocking_the_loop(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch, hold_at=2)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(setup.intake.receive, setup.later[0])
        await gate.wait_reached()
        with pytest.raises(ChainBusy):
            setup.intake.chain.rival_head()
        gate.opened.set()
    assert setup.intake.chain.rival_head() is None


async def test_a_cancelled_receive_lets_its_block_finish_and_reacts_to_it(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch, hold_at=2)
    outcomes = []
    with trio.CancelScope() as scope:

        async def cancel_when_held() -> None:
            await gate.wait_reached()
            scope.cancel()  # while the worker holds the block half-validated
            gate.opened.set()  # the thread finishes its block, and its result is handled

        async with trio.open_nursery() as nursery:
            nursery.start_soon(cancel_when_held)
            outcomes.append((await setup.intake.receive(setup.later[0], "peer")).outcome)
        await trio.sleep(1)  # the cancellation lands at the next checkpoint
        outcomes.append(Outcome.INVALID)
    assert scope.cancel_called and outcomes == [Outcome.APPLIED]
    head = setup.store.head_pointer()
    assert head is not None and head[0] == 2 and head[1] == setup.later[0].hash  # whole, not half
    assert setup.head_changes == 1  # the new head was reacted to despite the cancel
    # the store is consistent: the next block follows
    assert (await setup.intake.receive(setup.later[1])).outcome is Outcome.APPLIED


async def test_a_cancelled_batch_keeps_the_blocks_written_and_stops(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(node.chain, "FLUSH_SECONDS", 0.0)  # hand back to the loop after each block
    gate = Gate(monkeypatch, hold_at=3)
    results = []
    with trio.CancelScope() as scope:

        async def cancel_when_held() -> None:
            await gate.wait_reached()
            scope.cancel()
            gate.opened.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(cancel_when_held)
            results = await setup.intake.take_batch(setup.later, "peer")
    assert scope.cancelled_caught and results == []
    head = setup.store.head_pointer()
    assert head is not None and head[0] == 3  # blocks 2 and 3 written (3 finished in its thread)
    assert setup.head_changes == 1
    rest = await setup.intake.take_batch(setup.later[2:], "peer")
    assert [r.outcome for r in rest] == [Outcome.APPLIED] * 3


async def test_a_run_moves_the_head_only_when_a_batch_is_written(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(node.chain, "FLUSH_BLOCKS", 2)
    gate = Gate(monkeypatch, hold_at=5)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(setup.intake.take_batch, setup.later, "peer")
        await gate.wait_reached()
        # blocks 2, 3 written together; 4 validated in memory, not yet written nor served
        head = setup.store.head_pointer()
        assert head is not None and head[0] == 3
        assert setup.store.block_hash(4) is None
        assert setup.store.block(3) == setup.later[1]
        gate.opened.set()
    head = setup.store.head_pointer()
    assert head is not None and head[0] == 6 and head[2] == setup.chain.blocks[-1].state_digest
    assert setup.store.undo_record(6) is not None
    setup.store.check_integrity()


async def test_a_failure_mid_run_keeps_the_blocks_before_and_quarantines_the_culprit(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = validate_block

    def broken(view: StateView, block: Block, **options: Any) -> Delta:
        if block.number == 4:
            raise RuntimeError("a bug")
        return real(view, block, **options)

    monkeypatch.setattr(node.chain, "validate_block", broken)
    results = await setup.intake.take_batch(setup.later, "peer")
    assert [r.outcome for r in results] == [Outcome.APPLIED, Outcome.APPLIED, Outcome.QUARANTINED]
    head = setup.store.head_pointer()
    assert head is not None and head[0] == 3
    setup.store.check_integrity()


def test_a_run_equals_block_by_block(tmp_path: Path, setup: Setup) -> None:
    """The in-memory layer computes the same chain and state as one block at a time."""
    _config, other = open_store(datadir(tmp_path / "other", setup.chain.blocks[:2]))
    try:
        one_by_one = ChainManager(other)
        for block in setup.later:
            assert one_by_one.add_block(block).outcome is Outcome.APPLIED
        run = setup.intake.chain.extend_run(setup.later)
        assert run.error is None and [r.outcome for r in run.results] == [Outcome.APPLIED] * 5
        assert setup.store.head_pointer() == other.head_pointer()
        for number in range(7):
            assert setup.store.digest_at(number) == other.digest_at(number)
            assert setup.store.undo_record(number) == other.undo_record(number)
    finally:
        other.close()
