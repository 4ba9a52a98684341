"""A scripted peer gossips garbage, a block with a forged signature, a signed block that breaks a
rule, and a flood: the honest nodes count each fault, ban it, keep their head, and go on working."""

import contextlib
from dataclasses import replace
from pathlib import Path

import multiaddr
import trio
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.clock import Clock
from node.commands.data import dev_block_zero
from node.node import Node
from node.p2p.gossip import Gossip
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.misbehaviour import Offence
from protocol.crypto import Signature
from tests.node.hostile import flood_identities, gossiping_attacker
from tests.node.test_network import running
from tests.node.test_p2p_sync import LOOPBACK, datadir, wait_until
from tests.protocol.chain_builder import Chain


def no_fault(peer: object, offence: Offence, reason: str) -> None:
    return None


async def test_gossiped_garbage_forgery_and_broken_rules_get_the_peer_banned(tmp_path: Path) -> None:
    chain = Chain(founders=5)
    for _ in range(3):
        chain.write()
    honest = Node(datadir(tmp_path / "honest", chain.blocks))
    follower = Node(datadir(tmp_path / "follower", chain.blocks))
    (tmp_path / "hostile").mkdir()
    host = make_host(load_or_create_identity(tmp_path / "hostile"))
    genesis = chain.blocks[0]
    hostile = Gossip(
        host, genesis=genesis.hash, currency=genesis.currency, penalise=no_fault, header_check=lambda b: None
    )
    topic = hostile.blocks_topic
    next_block = chain.block()
    forged = replace(next_block, signature=Signature(bytes(64)))
    broken = chain.block(state_digest=b"\x11" * 32)  # signed by alice, proof of work done, digest wrong
    me = host.get_id()
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(honest.run)
            await nursery.start(follower.run)
            await follower.connect(honest.address)
            async with hostile.services(), host.run(listen_addrs=[multiaddr.Multiaddr(LOOPBACK)]):
                await hostile.pubsub.wait_until_ready()
                await hostile.pubsub.subscribe(topic)  # no validator: it publishes anything
                await host.connect(info_from_p2p_addr(multiaddr.Multiaddr(honest.address)))
                await wait_until(lambda: honest.network.hears(me, "blocks"), 20, "mesh")

                await hostile.pubsub.publish(topic, forged.to_bytes())
                score = honest.network.misbehaviour.score
                forgery = Offence.BAD_SIGNATURE.weight
                await wait_until(lambda: score(me) > forgery - 1, 20, "the forgery is an offence")
                await hostile.pubsub.publish(topic, broken.to_bytes())
                both = forgery + Offence.INVALID_BLOCK.weight
                await wait_until(lambda: score(me) >= both - 1, 20, "the broken rule is an offence")
                assert honest.store.invalid_reason(broken.hash) is not None
                for index in range(100):  # a flood of garbage
                    with contextlib.suppress(Exception):
                        await hostile.pubsub.publish(topic, b"\xff garbage %d" % index)
                    await trio.sleep(0.002)
                await wait_until(lambda: honest.network.is_banned(me), 20, "the hostile peer is banned")
                await wait_until(lambda: not honest.network.is_connected(me), 20, "it is cut off")
            assert honest.head()[1] == chain.blocks[-1].hash  # type: ignore[index]
            assert follower.head() == honest.head()
            assert not follower.network.is_banned(honest.network.peer_id)  # nothing bad was relayed
            chain.add(next_block)  # an honest block still travels
            await honest.forged(next_block)  # taken by its intake, then gossiped
            await wait_until(
                lambda: follower.head() == honest.head(), 30, "the follower takes the honest block"
            )
            honest.stop()
            follower.stop()
    finally:
        honest.close()
        follower.close()


async def test_a_flood_costs_its_author_not_the_honest_relay_it_crossed(tmp_path: Path) -> None:
    genesis = dev_block_zero(5, Clock().now() - 60)
    relay = Node(datadir(tmp_path / "relay", [genesis]))
    victim = Node(datadir(tmp_path / "victim", [genesis]))
    async with running([relay, victim]), gossiping_attacker(tmp_path / "flood", genesis) as (peer, gossip):
        await victim.connect(relay.address)
        await peer.connect(relay.address)  # the attacker reaches the victim only through the relay
        await wait_until(lambda: relay.network.hears(peer.peer_id, "documents"), 20, "mesh")
        await wait_until(lambda: victim.network.hears(relay.network.peer_id, "documents"), 20, "mesh")
        await flood_identities(gossip, genesis, 600)
        await wait_until(lambda: relay.network.is_banned(peer.peer_id), 30, "the relay bans the author")
        assert len(victim.mempool) > 0  # the relay did forward documents
        assert victim.network.misbehaviour.score(relay.network.peer_id) == 0
        assert not victim.network.is_banned(relay.network.peer_id)
