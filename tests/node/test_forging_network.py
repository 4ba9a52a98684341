"""Forging nodes on 127.0.0.1: three members take turns writing blocks and agree on one chain; a
jump of the development clock brings the Universal Dividend."""

from pathlib import Path

import trio

from node.clock import Clock
from node.commands.data import dev_block_zero
from node.node import Node
from protocol.genesis import dev_keypair
from tests.node.test_p2p_sync import datadir, wait_until

DAY = 86400


async def test_three_forgers_agree_and_the_clock_brings_the_dividend(tmp_path: Path) -> None:
    clock = Clock()
    genesis = dev_block_zero(5, clock.now() - 60)
    names = ["alice", "bob", "carol"]
    nodes = [
        Node(datadir(tmp_path / name, [genesis]), forger=dev_keypair(name), clock=clock, cpu_share=1.0)
        for name in names
    ]
    params = genesis.parameters
    assert params is not None
    params_gen = params.avg_gen_time
    try:
        async with trio.open_nursery() as nursery:
            for node in nodes:
                await nursery.start(node.run)
            for node in nodes[1:]:
                await node.connect(nodes[0].address)
            await nodes[2].connect(nodes[1].address)

            def agreed(minimum: int) -> bool:
                heads = [n.head() for n in nodes]
                return all(h is not None and h[0] >= minimum for h in heads) and len(set(heads)) == 1

            for _ in range(4):  # the clock moves ahead so blocks are due without waiting avgGenTime
                clock.jump(params_gen)
                await trio.sleep(0)
                await wait_until(lambda: agreed(1), 60, "the three nodes agree on a head")
            clock.jump(DAY + 60)
            for _ in range(8):
                clock.jump(params_gen)
                head = nodes[0].head()
                assert head is not None
                await wait_until(lambda h=head: agreed(h[0] + 1), 60, "a new block is agreed")
                summary = nodes[0].store.head()
                if summary is not None and summary.mass > 0:
                    break
            summary = nodes[0].store.head()
            assert summary is not None and summary.mass == 5 * params.ud0
            issuers = {nodes[0].store.block(n).issuer for n in range(1, summary.number + 1)}  # type: ignore[union-attr]
            assert len(issuers) >= 2  # members take turns
            for node in nodes:
                node.stop()
    finally:
        for node in nodes:
            node.close()
