"""The one block intake: blame by what the chain found, one reaction per new head, blocks that wait
for their time, and a bug met by one block quarantined instead of killing the node."""

from pathlib import Path
from typing import Any

import pytest

from node.chain import ChainManager, Outcome
from node.clock import Clock
from node.datadir import open_store
from node.intake import FUTURE_TOLERANCE, BlockIntake
from node.p2p.misbehaviour import Offence
from tests.node.test_p2p_sync import datadir
from tests.protocol.chain_builder import Chain


class Recorder:
    def __init__(self) -> None:
        self.blamed: list[tuple[Any, Offence]] = []
        self.head_changes = 0
        self.missing = 0

    def blame(self, peer: Any, offence: Offence, _detail: str) -> None:
        self.blamed.append((peer, offence))


@pytest.fixture
def setup(tmp_path: Path) -> Any:
    chain = Chain(founders=5)
    for _ in range(2):
        chain.write()
    _config, store = open_store(datadir(tmp_path / "node", chain.blocks))
    clock = Clock()
    clock.offset = chain.blocks[-1].time + 1000 - clock.now()
    recorder = Recorder()
    intake = BlockIntake(ChainManager(store), clock, recorder.blame)
    intake.on_head_change.append(lambda: setattr(recorder, "head_changes", recorder.head_changes + 1))
    intake.on_missing.append(lambda: setattr(recorder, "missing", recorder.missing + 1))
    yield chain, store, intake, recorder
    store.close()


def test_a_valid_block_moves_the_head_once(setup: Any) -> None:
    chain, _store, intake, recorder = setup
    block = chain.block()
    assert intake.take(block, "peer").outcome is Outcome.APPLIED
    assert recorder.head_changes == 1 and not recorder.blamed
    assert intake.take(block, "peer").outcome is Outcome.KNOWN
    assert recorder.head_changes == 1


def test_a_block_that_breaks_a_rule_blames_its_sender(setup: Any) -> None:
    chain, _store, intake, recorder = setup
    broken = chain.block(state_digest=b"\x11" * 32)
    assert intake.take(broken, "mallory").outcome is Outcome.INVALID
    assert recorder.blamed == [("mallory", Offence.INVALID_BLOCK)]
    assert recorder.head_changes == 0


def test_a_block_dated_ahead_waits_for_its_time(setup: Any) -> None:
    chain, store, intake, recorder = setup
    block = chain.block(time=int(intake.clock.now()) + FUTURE_TOLERANCE + 100)
    assert intake.take(block, "peer").outcome is Outcome.WAITING
    assert store.head_pointer()[1] != block.hash
    intake.clock.offset += 200
    intake.take_due()
    assert store.head_pointer()[1] == block.hash
    assert recorder.head_changes == 1


def test_an_unexpected_error_quarantines_the_block_and_the_node_goes_on(
    setup: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    chain, _store, intake, recorder = setup
    poisoned = chain.block()

    def broken_rules(block: Any, **_options: Any) -> Any:
        raise KeyError("a bug in the rules")

    with monkeypatch.context() as patch:
        patch.setattr(intake.chain, "add_block", broken_rules)
        result = intake.take(poisoned, "peer")
    assert result.outcome is Outcome.QUARANTINED
    assert "KeyError" in result.reason
    assert f"block {poisoned.number}" in caplog.text and "peer" in caplog.text
    assert not recorder.blamed  # our bug is not the sender's fault
    assert intake.take(poisoned, "peer").outcome is Outcome.QUARANTINED  # not tried again
    other = chain.block(time=poisoned.time + 1)
    assert intake.take(other, "peer").outcome is Outcome.APPLIED  # the node goes on


async def test_a_batch_reacts_once_and_stops_at_the_first_refusal(setup: Any) -> None:
    chain, _store, intake, recorder = setup
    blocks = []
    for _ in range(3):
        chain.write()
        blocks.append(chain.blocks[-1])
    results = await intake.take_batch(blocks, "peer")
    assert [r.outcome for r in results] == [Outcome.APPLIED] * 3
    assert recorder.head_changes == 1
