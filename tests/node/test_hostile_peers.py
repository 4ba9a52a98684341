"""A hostile peer against a real `juned run` process on 127.0.0.1.

For each attack the node stays up, keeps its head, its API answers, its memory stays bounded, and
the attacker is banned where it is at fault (the node says so in its log). The attacks: one
malformed packet on pubsub, garbage and oversized frames on every protocol June speaks, a head of
2^62, junk fork candidates, a flood of pending identities by gossip (a real newcomer submitted
through the API is still accepted), a peers answer full of tarpits, and silent TCP connections.
"""

import os
import random
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.id import ID

from node.clock import Clock
from node.commands.data import dev_block_zero
from node.datadir import open_store
from node.p2p.messages import (
    Status,
)
from node.p2p.network import STATUS_PROTOCOL, sync_protocol
from protocol.documents import Block, BlockRef, Identity
from protocol.genesis import dev_keypair
from protocol.keys import Keypair
from tests.node.hostile import (
    Victim,
    answer_sync,
    attacker,
    flood_identities,
    gossiping_attacker,
    lying_status,
    victim,
)
from tests.node.test_p2p_sync import datadir

#: What a node may hold in memory while attacked (an idle node holds about 150 MB).
MAX_RSS_MB = 400
MESHSUB = ["/meshsub/1.1.0", "/meshsub/1.0.0"]


@pytest.fixture
def genesis() -> Block:
    return dev_block_zero(5, Clock().now() - 60)


async def still_serving(node: Victim, head: int) -> None:
    """The node is alive, its API answers, it kept its head, and its memory is bounded."""
    assert node.alive()
    assert await node.head() == head
    assert node.rss_mb() < MAX_RSS_MB, f"{node.rss_mb():.0f} MB"


async def test_one_malformed_pubsub_packet_does_not_kill_the_node(tmp_path: Path, genesis: Block) -> None:
    async with victim(datadir(tmp_path / "node", [genesis])) as node, attacker(tmp_path / "a") as peer:
        target = await peer.connect(node.address)
        for protocol in MESHSUB:  # the packet that used to end the process within 2 s
            await peer.send_raw(target, protocol, bytes.fromhex("04ffffffff"))
            await node.wait_for_log("sent bytes that do not decode", 20)
        await peer.send_raw(target, MESHSUB[0], bytes.fromhex("04ffffffff"))
        await node.wait_for_log(f"peer {peer.peer_id} banned", 20)
        await still_serving(node, 0)


async def test_garbage_and_oversized_frames_on_every_protocol(tmp_path: Path, genesis: Block) -> None:
    protocols = [str(STATUS_PROTOCOL), str(sync_protocol(genesis.hash)), *MESHSUB]
    rng = random.Random(12)
    async with victim(datadir(tmp_path / "node", [genesis])) as node:
        for round_ in range(3):  # each round a fresh attacker: the previous one is banned
            async with attacker(tmp_path / f"a{round_}") as peer:
                target = await peer.connect(node.address)
                for protocol in protocols:
                    await peer.send_raw(target, protocol, rng.randbytes(rng.randrange(1, 300)))
                    await peer.send_raw(target, protocol, b"\xff\xff\xff\xff\x0f")  # a 4 GB length prefix
                    await peer.send_frame(target, protocol, b"\xa1\x00" + rng.randbytes(20))
                await still_serving(node, 0)
        await node.wait_for_log("sent an oversized frame or message", 10)
        await node.wait_for_log("banned", 10)
        await still_serving(node, 0)


async def test_a_head_of_2_62_is_a_lie_that_gets_the_peer_banned(tmp_path: Path, genesis: Block) -> None:
    async with victim(datadir(tmp_path / "node", [genesis])) as node, attacker(tmp_path / "liar") as peer:
        answer_sync(peer.host, genesis, lying_status(genesis))
        await peer.connect(node.address)
        await node.wait_for_log("announced a head it could not serve", 30)
        await node.wait_for_log(f"peer {peer.peer_id} banned", 30)
        await still_serving(node, 0)


def junk_block(genesis: Block, number: int) -> Block:
    """A block signed by a throwaway key on a random parent, with an easy proof of work."""
    junk = Keypair(os.urandom(32))
    body = replace(
        genesis,
        number=number,
        issuer=junk.public_key,
        previous_hash=os.urandom(32),
        previous_issuer=genesis.issuer,
        parameters=None,
        pow_min=0,
    )
    return body.signed(junk, 0)


async def test_junk_fork_candidates_are_refused_and_their_sender_banned(
    tmp_path: Path, genesis: Block
) -> None:
    path = datadir(tmp_path / "node", [genesis])
    async with victim(path) as node, gossiping_attacker(tmp_path / "junk", genesis) as (peer, gossip):
        await peer.connect(node.address)
        with trio.fail_after(20):
            while not gossip.subscribed(node.peer_id, "blocks"):
                await trio.sleep(0.05)
        for number in range(1, 40):
            if f"peer {peer.peer_id} banned" in node.log_text():
                break
            await gossip.pubsub.publish(gossip.blocks_topic, junk_block(genesis, number).to_bytes())
            await trio.sleep(0.05)
        await node.wait_for_log(f"peer {peer.peer_id} banned", 20)
        assert "could never become the chain" in node.log_text()
        await still_serving(node, 0)
        node.process.terminate()
        with trio.fail_after(20):
            await node.process.wait()
    _config, store = open_store(path)
    try:
        assert store.fork_candidates() == []  # nothing of the junk reached the disk
    finally:
        store.close()


async def test_a_flood_of_pending_identities_does_not_lock_out_a_real_newcomer(
    tmp_path: Path, genesis: Block
) -> None:
    ref = BlockRef(0, genesis.hash)
    async with victim(datadir(tmp_path / "node", [genesis])) as node:
        async with gossiping_attacker(tmp_path / "flood", genesis) as (peer, gossip):
            await peer.connect(node.address)
            with trio.fail_after(20):
                while not gossip.subscribed(node.peer_id, "documents"):
                    await trio.sleep(0.05)
            await flood_identities(gossip, genesis, 1000)
            await node.wait_for_log(f"peer {peer.peer_id} banned", 30)
        newcomer = Identity.create(dev_keypair("frank"), genesis.currency, "frank", ref)
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(
                node.api + "/documents",
                content=newcomer.to_bytes(),
                headers={"content-type": "application/cbor"},
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"] == "accepted"
        pending = await node.api_get("/pending?kind=identity")
        assert len(pending) < 1000  # the relay budget cut the flood short
        await still_serving(node, 0)


async def test_a_peers_answer_of_tarpits_gets_few_dials(tmp_path: Path, genesis: Block) -> None:
    accepted: list[Any] = []

    async def hold(connection: trio.SocketStream) -> None:
        accepted.append(connection)
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, hold, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        tarpits = [f"/ip4/127.0.0.1/tcp/{port}/p2p/{_peer_id()}" for _ in range(64)]
        async with victim(datadir(tmp_path / "node", [genesis])) as node, attacker(tmp_path / "a") as peer:
            honest = Status(genesis.hash, 0, genesis.hash, genesis.median_time, bytes(32))
            answer_sync(peer.host, genesis, honest, peers=tarpits)
            await peer.connect(node.address)
            await node.wait_for_log("heard", 30)  # the first peers answer was taken
            with trio.move_on_after(12):  # an observation window: the dials it makes meanwhile
                await trio.sleep_forever()
            assert len(accepted) <= 8, f"{len(accepted)} dials to tarpits"
            await still_serving(node, 0)
        nursery.cancel_scope.cancel()


def _peer_id() -> str:
    return str(ID.from_pubkey(create_new_key_pair(os.urandom(32)).public_key))


async def test_abandoned_tcp_connections_are_closed(tmp_path: Path, genesis: Block) -> None:
    async with victim(datadir(tmp_path / "node", [genesis])) as node:
        port = int(node.address.split("/tcp/")[1].split("/")[0])
        silent = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(40)]
        closed = 0
        with trio.fail_after(40):  # the handshake deadline closes each of them
            for connection in silent:
                try:
                    while await connection.receive_some(1024):
                        pass
                except trio.BrokenResourceError:
                    pass
                closed += 1
        assert closed == len(silent)
        await still_serving(node, 0)


async def test_oversized_gossip_is_an_offence(tmp_path: Path, genesis: Block) -> None:
    async with (
        victim(datadir(tmp_path / "node", [genesis])) as node,
        gossiping_attacker(tmp_path / "big", genesis) as (peer, gossip),
    ):
        await peer.connect(node.address)
        with trio.fail_after(20):
            while not gossip.subscribed(node.peer_id, "blocks"):
                await trio.sleep(0.05)
        for index in range(3):  # under pubsub's 1 MiB cap, over June's caps for a block or a document
            await gossip.pubsub.publish(gossip.blocks_topic, bytes([index]) * 600_000)
            await gossip.pubsub.publish(gossip.documents_topic, bytes([index]) * 100_000)
            await trio.sleep(0.05)
        await node.wait_for_log("sent an oversized frame or message: gossip", 20)
        await node.wait_for_log(f"peer {peer.peer_id} banned", 20)
        await still_serving(node, 0)
