"""Forging nodes on 127.0.0.1: three members take turns writing blocks and agree on one chain; a
jump of the development clock brings the Universal Dividend."""

from pathlib import Path

from node.clock import Clock
from node.commands.data import dev_block_zero
from protocol.genesis import DEV_NAMES
from tests.node.test_network import forge_rounds, forging_nodes, running

DAY = 86400


async def test_three_forgers_agree_and_the_clock_brings_the_dividend(tmp_path: Path) -> None:
    clock = Clock()
    genesis = dev_block_zero(5, clock.now() - 60)
    nodes = forging_nodes(tmp_path, list(DEV_NAMES[:3]), [clock] * 3, genesis)
    params = genesis.parameters
    assert params is not None
    async with running(nodes):
        for node in nodes[1:]:
            await node.connect(nodes[0].address)
        await forge_rounds(nodes, clock, 4)
        clock.jump(DAY + 60)
        for _ in range(8):
            await forge_rounds(nodes, clock, 1)
            summary = nodes[0].store.head()
            if summary is not None and summary.mass > 0:
                break
        summary = nodes[0].store.head()
        assert summary is not None and summary.mass == 5 * params.ud0
        issuers = {nodes[0].store.block(n).issuer for n in range(1, summary.number + 1)}  # type: ignore[union-attr]
        assert len(issuers) >= 2  # members take turns
