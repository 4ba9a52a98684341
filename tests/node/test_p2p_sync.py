"""Nodes on 127.0.0.1 syncing over libp2p: a newcomer catches up, through a relay, and a node of
another currency is refused."""

import contextlib
from collections.abc import Callable
from pathlib import Path

import multiaddr
import pytest
import trio
from libp2p.io.msgio import VarIntLengthMsgReadWriter
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.chain import ChainManager
from node.datadir import STORE_NAME, NodeConfig, write_config
from node.node import Node
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.network import sync_protocol
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


async def test_hostile_peer_is_banned_and_honest_nodes_keep_their_head(
    tmp_path: Path, history: Chain
) -> None:
    """A peer sending garbage requests and oversized frames is banned; the node keeps serving."""
    honest = Node(datadir(tmp_path / "a", history.blocks))
    follower = Node(datadir(tmp_path / "b", history.blocks[:1]))
    (tmp_path / "hostile").mkdir()
    hostile = make_host(load_or_create_identity(tmp_path / "hostile"))
    protocol = sync_protocol(history.blocks[0].hash)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(honest.run)
            await nursery.start(follower.run)
            async with hostile.run(listen_addrs=[multiaddr.Multiaddr(LOOPBACK)]):
                target = info_from_p2p_addr(multiaddr.Multiaddr(honest.address))
                await hostile.connect(target)
                garbage = [b"\xff\x00garbage", b"\x83\x01\x00\x00", b"\x82" + b"\x00" * 40]
                for payload in garbage:
                    with contextlib.suppress(Exception):
                        stream = await hostile.new_stream(target.peer_id, [protocol])
                        frames = VarIntLengthMsgReadWriter(stream, max_msg_size=1 << 20)
                        await frames.write_msg(payload)
                        with trio.move_on_after(2):
                            await frames.read_msg()
                with contextlib.suppress(Exception):  # a length prefix of 1 TiB: refused before allocation
                    stream = await hostile.new_stream(target.peer_id, [protocol])
                    await stream.write(b"\xff\xff\xff\xff\xff\x1f")
                await wait_until(
                    lambda: honest.network.is_banned(hostile.get_id()), 20, "the hostile peer is banned"
                )
                await wait_until(
                    lambda: not honest.network.is_connected(hostile.get_id()), 20, "it is cut off"
                )
            await follower.connect(honest.address)
            await wait_until(lambda: follower.head() == honest.head(), 60, "the honest follower syncs")
            assert honest.head()[1] == history.blocks[-1].hash  # type: ignore[index]
            honest.stop()
            follower.stop()
    finally:
        honest.close()
        follower.close()
