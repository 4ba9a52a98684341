"""Networks of nodes on 127.0.0.1: a newcomer syncs a long chain from several peers at once, a node
killed mid-sync resumes where it stopped, a partition forks the network and healing settles it by
the fork rule, and six nodes relaying by gossip agree on one head and one state digest."""

import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
from libp2p.peer.id import ID

from bench._chain import BenchChain
from node.clock import Clock
from node.commands.data import dev_block_zero
from node.datadir import open_store
from node.node import Node
from protocol.documents import Block, BlockRef, Certification, Identity, Membership, MembershipType
from protocol.genesis import DEV_NAMES, dev_keypair
from tests.node.test_p2p_sync import datadir, wait_until

JUNED = str(Path(sys.executable).with_name("juned"))


@pytest.fixture(scope="module")
def long_chain() -> list[Block]:
    chain = BenchChain(8)
    for _ in range(1500):
        head = chain.state.head()
        assert head is not None
        chain.apply(chain.forge([], head.time + 10))
    return chain.blocks


@pytest.fixture(scope="module")
def full_datadir(tmp_path_factory: pytest.TempPathFactory, long_chain: list[Block]) -> Path:
    return datadir(tmp_path_factory.mktemp("full") / "node", long_chain)


@asynccontextmanager
async def running(nodes: list[Node]) -> AsyncIterator[trio.Nursery]:
    """Start `nodes`; on leaving, stop and close every one of them (even after a failure)."""
    try:
        async with trio.open_nursery() as nursery:
            for node in nodes:
                await nursery.start(node.run)
            yield nursery
            for node in nodes:
                node.stop()
    finally:
        for node in nodes:
            node.close()


def copy_of(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


async def test_newcomer_downloads_from_several_peers(
    tmp_path: Path, full_datadir: Path, long_chain: list[Block]
) -> None:
    peers = [Node(copy_of(full_datadir, tmp_path / f"peer{i}")) for i in range(3)]
    newcomer = Node(datadir(tmp_path / "newcomer", long_chain[:1]))
    newcomer.syncer.chunk = 50
    nodes = [*peers, newcomer]
    async with running(nodes):
        for peer in peers:
            await newcomer.connect(peer.address)
        await wait_until(lambda: len(newcomer.peers()) == 3, 30, "the newcomer sees three peers")
        await wait_until(lambda: newcomer.head() == peers[0].head(), 120, "the newcomer is in sync")
        served = newcomer.syncer.progress.served_by
        assert len(served) >= 2, f"blocks came from one peer only: {served}"
        assert sum(served.values()) >= len(long_chain) - 1


async def read_until(stream: trio.abc.ReceiveStream, text: bytes, timeout: float) -> bytes:
    seen = b""
    with trio.fail_after(timeout):
        while text not in seen:
            chunk = await stream.receive_some(4096)
            if not chunk:
                raise AssertionError(f"the process ended before printing {text!r}:\n{seen.decode()}")
            seen += chunk
    return seen


async def test_node_killed_mid_sync_resumes_where_it_stopped(
    tmp_path: Path, full_datadir: Path, long_chain: list[Block]
) -> None:
    server = Node(copy_of(full_datadir, tmp_path / "server"))
    newcomer_dir = datadir(tmp_path / "newcomer", long_chain[:1])
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            process = await trio.lowlevel.open_process(
                [JUNED, "run", "--datadir", str(newcomer_dir), "--bootstrap", server.address, "-v"],
                stdout=-1,
                stderr=-2,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                assert process.stdout is not None
                await read_until(process.stdout, b"sync: ", 60)  # the first progress line: mid-sync
                process.send_signal(signal.SIGKILL)
                with trio.fail_after(10):
                    await process.wait()
            finally:
                process.kill()
            _config, store = open_store(newcomer_dir)  # the integrity check passes after the kill
            killed_at = store.head_pointer()
            store.close()
            assert killed_at is not None and 0 < killed_at[0] < len(long_chain) - 1
            resumed = Node(newcomer_dir)
            try:
                await nursery.start(resumed.run)
                await resumed.connect(server.address)
                await wait_until(lambda: resumed.head() == server.head(), 120, "the resumed node is in sync")
                downloaded = sum(resumed.syncer.progress.served_by.values())
                assert downloaded <= len(long_chain) - 1 - killed_at[0]  # nothing taken twice
                resumed.stop()
            finally:
                resumed.close()
            server.stop()
    finally:
        server.close()


def forging_nodes(tmp_path: Path, names: list[str], clocks: list[Clock], genesis: Block) -> list[Node]:
    return [
        Node(
            datadir(tmp_path / name, [genesis]),
            forger=dev_keypair(name),
            clock=clock,
            cpu_share=1.0,
            turn_spacing=0.3,
        )
        for name, clock in zip(names, clocks, strict=True)
    ]


def agreed(nodes: list[Node], minimum: int) -> bool:
    heads = [n.head() for n in nodes]
    return all(h is not None and h[0] >= minimum for h in heads) and len(set(heads)) == 1


async def forge_rounds(nodes: list[Node], clock: Clock, rounds: int) -> None:
    """Move `clock` one block period at a time and wait until `nodes` agree on each new block."""
    params = nodes[0].chain.params
    assert params is not None
    for _ in range(rounds):
        head = nodes[0].head()
        assert head is not None
        clock.jump(params.avg_gen_time)
        # Two forgers may write the same height at once: only a next block settles that fork, and
        # with a still clock none comes (a round then waited out its deadline). Time moves on
        # again while they disagree; a round usually agrees in well under a second.
        with trio.fail_after(60):
            while not agreed(nodes, head[0] + 1):
                with trio.move_on_after(STILL_CLOCK):
                    while not agreed(nodes, head[0] + 1):
                        await trio.sleep(0.05)
                if not agreed(nodes, head[0] + 1):
                    clock.jump(params.avg_gen_time)


#: Seconds `forge_rounds` lets forgers disagree before it moves the clock again.
STILL_CLOCK = 8


def cut(group: list[Node], others: list[Node]) -> None:
    """A partition: each side bans the other's peer ids (which also disconnects them)."""
    for node in group:
        for other in others:
            node.network.ban(other.network.peer_id, "test partition")
            other.network.ban(node.network.peer_id, "test partition")


async def heal(nodes: list[Node]) -> None:
    for node in nodes:
        for other in nodes:
            if other is not node and node.network.is_banned(other.network.peer_id):
                node.network.pardon(ID.from_base58(other.network.peer_id))
    for node in nodes[1:]:
        await node.connect(nodes[0].address)


async def test_partition_forks_and_healing_settles_on_the_longer_branch(tmp_path: Path) -> None:
    majority_clock, minority_clock = Clock(), Clock()
    genesis = dev_block_zero(5, majority_clock.now() - 60)
    names = list(DEV_NAMES[:5])
    majority = forging_nodes(tmp_path, names[:3], [majority_clock] * 3, genesis)
    minority = forging_nodes(tmp_path, names[3:], [minority_clock] * 2, genesis)
    nodes = majority + minority
    async with running(nodes):
        for node in majority[1:]:
            await node.connect(majority[0].address)
        await minority[1].connect(minority[0].address)
        cut(majority, minority)
        await forge_rounds(majority, majority_clock, 7)
        await forge_rounds(minority, minority_clock, 2)
        fork_heads = {majority[0].head(), minority[0].head()}
        assert len(fork_heads) == 2  # two branches
        minority_clock.offset = majority_clock.offset  # same time again on both sides
        await heal(nodes)
        await wait_until(lambda: agreed(nodes, 7), 90, "the five nodes agree after healing")
        assert nodes[-1].head() == majority[0].head()  # the longer branch won
        await forge_rounds(nodes, majority_clock, 1)  # and everyone forges on it


async def test_six_nodes_relaying_by_gossip_agree(tmp_path: Path) -> None:
    clock = Clock()
    genesis = dev_block_zero(5, clock.now() - 60)
    forgers = forging_nodes(tmp_path, list(DEV_NAMES[:3]), [clock] * 3, genesis)
    relays = [Node(datadir(tmp_path / f"relay{i}", [genesis]), clock=clock) for i in range(3)]
    nodes = forgers + relays
    async with running(nodes):
        for index, node in enumerate(nodes[1:], start=1):  # a line: gossip must relay
            await node.connect(nodes[index - 1].address)
        await forge_rounds(nodes, clock, 4)
        digests = {n.store.state_digest() for n in nodes}
        assert len(digests) == 1
        await wait_until(
            lambda: all(len(n.network.peer_book.entries) >= 2 for n in nodes),
            30,
            "peers learnt from each other",
        )


async def test_a_newcomer_joins_through_documents_gossiped_from_a_relay(tmp_path: Path) -> None:
    """Identity, membership and three certifications submitted at a relay reach the forgers' mempools
    by gossip and are written: the newcomer is a member on every node."""
    clock = Clock()
    genesis = dev_block_zero(5, clock.now() - 60)
    forgers = forging_nodes(tmp_path, list(DEV_NAMES[:3]), [clock] * 3, genesis)
    relay = Node(datadir(tmp_path / "relay", [genesis]), clock=clock)
    nodes = [*forgers, relay]
    frank = dev_keypair("frank")
    ref = BlockRef(0, genesis.hash)
    identity = Identity.create(frank, genesis.currency, "frank", ref)
    documents = [
        identity,
        Membership.create(frank, genesis.currency, MembershipType.IN, "frank", ref),
        *(
            Certification.create(dev_keypair(name), genesis.currency, frank.public_key, identity.hash, ref)
            for name in DEV_NAMES[:3]
        ),
    ]
    async with running(nodes):
        for node in forgers:
            await relay.connect(node.address)
        await wait_until(
            lambda: all(n.network.hears(relay.network.peer_id, "documents") for n in forgers),
            20,
            "the relay is subscribed",
        )
        await forge_rounds(nodes, clock, 7)  # the median time passes the founders' sigPeriod
        for document in documents:
            await relay.submit(document)
        await wait_until(lambda: all(len(n.mempool) == 5 for n in forgers), 20, "the documents are gossiped")
        params = genesis.parameters
        assert params is not None

        def frank_is_member() -> bool:
            records = [n.store.identity(frank.public_key) for n in nodes]
            return all(r is not None and r.member for r in records)

        with trio.fail_after(60):
            while not frank_is_member():
                clock.jump(params.avg_gen_time)
                await trio.sleep(0.5)
        await wait_until(lambda: agreed(nodes, 1), 30, "every node agrees")
        assert all(len(n.mempool) == 0 for n in nodes)  # written, so dropped from every pool


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_peer_book_survives_a_restart(tmp_path: Path) -> None:
    genesis = dev_block_zero(5, Clock().now() - 60)
    listen = f"/ip4/127.0.0.1/tcp/{free_port()}"
    steady = Node(datadir(tmp_path / "steady", [genesis]), listen=listen)
    first = Node(datadir(tmp_path / "restarting", [genesis]))
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(steady.run)
            await nursery.start(first.run)
            await first.connect(steady.address)
            first.stop()
            await wait_until(lambda: not steady.peers(), 20, "the restarting node is gone")
            first.close()
            again = Node(tmp_path / "restarting")  # no address given: it comes from peers.json
            try:
                await nursery.start(again.run)
                await wait_until(
                    lambda: again.network.is_connected(steady.network.peer_id), 30, "it dials its old peer"
                )
                again.stop()
            finally:
                again.close()
            steady.stop()
    finally:
        steady.close()
        first.close()


async def test_blocks_dated_ahead_of_a_node_s_clock_wait_for_their_time(tmp_path: Path) -> None:
    ahead, behind = Clock(), Clock()
    genesis = dev_block_zero(5, ahead.now() - 60)
    [forger] = forging_nodes(tmp_path, ["alice"], [ahead], genesis)
    late = Node(datadir(tmp_path / "late", [genesis]), clock=behind)
    ahead.jump(600)  # the forger's clock is ten minutes ahead of the late node's
    async with running([forger, late]):
        await late.connect(forger.address)
        await wait_until(lambda: (forger.head() or (0,))[0] >= 2, 30, "the forger writes blocks")
        await wait_until(lambda: late.syncer.progress.target >= 2, 30, "the late node tried to sync")
        assert late.head()[0] == 0  # type: ignore[index]
        behind.jump(600)
        await wait_until(
            lambda: late.head() == forger.head() or (late.head() or (0,))[0] >= 2, 30, "taken in time"
        )
