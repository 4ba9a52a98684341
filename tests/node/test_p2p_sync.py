"""Nodes on 127.0.0.1 syncing over libp2p: a newcomer catches up, through a relay, and a node of
another currency is refused."""

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from node.chain import ChainManager
from node.datadir import STORE_NAME, NodeConfig, write_config
from node.node import Node
from node.store import LevelStore
from protocol.documents import Block
from tests.protocol.chain_builder import Chain
from tests.protocol.rules.test_chain_simulation import Simulation, WebOfTrustDied

LOOPBACK = "/ip4/127.0.0.1/tcp/0"


@pytest.fixture(scope="module")
def history() -> Chain:
    simulation = Simulation(21, calm=True)
    with contextlib.suppress(WebOfTrustDied):
        for _ in range(150):
            simulation.step()
    return simulation.chain


def datadir(path: Path, blocks: list[Block]) -> Path:
    """A data directory holding `blocks` (block 0 first)."""
    store = LevelStore.open(path / STORE_NAME)
    manager = ChainManager(store, genesis_hash=blocks[0].hash)
    for block in blocks:
        manager.add_block(block)
    store.close()
    write_config(path, NodeConfig(currency=blocks[0].currency, genesis=blocks[0].hash, listen=LOOPBACK))
    return path


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` until true; fail with `what` after `timeout` seconds."""
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.05)
        return
    raise AssertionError(f"timed out after {timeout} s waiting until {what}")


async def test_newcomer_syncs_through_a_relay(tmp_path: Path, history: Chain) -> None:
    full = Node(datadir(tmp_path / "a", history.blocks))
    relay = Node(datadir(tmp_path / "b", history.blocks[:1]))
    newcomer = Node(datadir(tmp_path / "c", history.blocks[:1]))
    nodes = [full, relay, newcomer]
    try:
        async with trio.open_nursery() as nursery:
            for node in nodes:
                await nursery.start(node.run)
            await relay.connect(full.address)
            await newcomer.connect(relay.address)
            target = full.head()
            await wait_until(lambda: all(n.head() == target for n in nodes), 60, "all three share the head")
            for node in nodes:
                node.stop()
    finally:
        for node in nodes:
            node.close()


async def test_node_of_another_currency_is_dropped(tmp_path: Path, history: Chain) -> None:
    other = Chain(founders=5)
    ours = Node(datadir(tmp_path / "a", history.blocks[:10]))
    theirs = Node(datadir(tmp_path / "b", other.blocks))
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(ours.run)
            await nursery.start(theirs.run)
            await ours.connect(theirs.address)
            await wait_until(lambda: not ours.peers(), 30, "the foreign peer is dropped")
            assert ours.head()[1] == history.blocks[9].hash  # type: ignore[index]
            ours.stop()
            theirs.stop()
    finally:
        ours.close()
        theirs.close()
