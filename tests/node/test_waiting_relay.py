"""A document that must wait for its time is kept by the node that acknowledged it and gossiped
when it becomes valid: members certify two newcomers in a row at a relay that does not forge; the
second certifications wait sigPeriod, then travel to the forgers and are written."""

from pathlib import Path

import trio

from node.clock import Clock
from node.commands.data import dev_block_zero
from node.mempool import Admission
from node.node import Node
from protocol.documents import BlockRef, Certification, Identity, Membership, MembershipType
from protocol.genesis import DEV_NAMES, dev_keypair
from tests.node.test_network import agreed, forge_rounds, forging_nodes, running
from tests.node.test_p2p_sync import datadir, wait_until


async def test_certifications_that_wait_their_turn_are_relayed_and_written(tmp_path: Path) -> None:
    clock = Clock()
    genesis = dev_block_zero(5, clock.now() - 60)
    params = genesis.parameters
    assert params is not None
    forgers = forging_nodes(tmp_path, list(DEV_NAMES[:3]), [clock] * 3, genesis)
    relay = Node(datadir(tmp_path / "relay", [genesis]), clock=clock)
    nodes = [*forgers, relay]
    ref = BlockRef(0, genesis.hash)
    newcomers = [dev_keypair(name) for name in ("frank", "grace")]
    async with running(nodes):
        for node in forgers:
            await relay.connect(node.address)
        await wait_until(
            lambda: all(n.network.hears(relay.network.peer_id, "documents") for n in forgers), 20, "mesh"
        )
        await forge_rounds(nodes, clock, 7)  # the median time passes the founders' sigPeriod
        answers = {}
        for keypair, uid in zip(newcomers, ("frank", "grace"), strict=True):
            identity = Identity.create(keypair, genesis.currency, uid, ref)
            await relay.submit(identity)
            await relay.submit(Membership.create(keypair, genesis.currency, MembershipType.IN, uid, ref))
            answers[uid] = []
            for name in DEV_NAMES[:3]:
                certifier = dev_keypair(name)
                certification = Certification.create(
                    certifier, genesis.currency, keypair.public_key, identity.hash, ref
                )
                answers[uid].append((await relay.submit(certification)).admission)

            def member(key: bytes = keypair.public_key) -> bool:
                records = [n.store.identity(key) for n in nodes]
                return all(r is not None and r.member for r in records)

            with trio.fail_after(120):
                while not member():
                    clock.jump(params.avg_gen_time)
                    await trio.sleep(0.5)
        with trio.fail_after(60):  # a fork between forgers settles as the clock moves on
            while not agreed(nodes, 1):
                clock.jump(params.avg_gen_time)
                await trio.sleep(0.5)
        assert answers["frank"] == [Admission.ACCEPTED] * 3
        assert answers["grace"] == [Admission.WAITING] * 3  # one certification per sigPeriod per issuer
        assert all(len(n.mempool) == 0 for n in nodes)
