"""Block propagation across 10 local nodes, one process each: from publication to "applied".

A publisher (this process, a node holding the chain) adds one block at a time and gossips it; ten
`juned run` processes, linked in a loose line (each dials the two before it, peer exchange does
the rest), log the wall-clock time at which they apply each block, validation included. The
latency of a block at a node is that time minus the publication time. Reference in the same run:
one full validation of such a block in this process, so the ratio shows what the network adds.
Target (design.md §5): median < 100 ms, 90th percentile < 300 ms.
"""

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repository on sys.path)
import trio
from _chain import BenchChain
from bench_sync import datadir_at_block_zero, start_server

from node.node import Node
from protocol.documents import Block
from protocol.rules.block import validate_block
from protocol.state import MemoryState

APPLIED = re.compile(r"block (\d+) (?:applied|switched) at ([\d.]+)")
WARM_UP = 3


def start_node(path: Path, bootstrap: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    options = ["-v"]
    for address in bootstrap:
        options += ["--bootstrap", address]
    return start_server(path, options, log)


async def run_network(
    publisher: Node, blocks: list[Block], root: Path, nodes: int, interval: float, processes: list[Any]
) -> dict[int, float]:
    """Start the node processes around the publisher, then publish `blocks` one by one."""
    published: dict[int, float] = {}
    async with trio.open_nursery() as nursery:
        await nursery.start(publisher.run)
        addresses = [publisher.address]
        for index in range(nodes):
            path = datadir_at_block_zero(root / f"node{index}", blocks[0])
            process, address = await trio.to_thread.run_sync(
                start_node, path, addresses[-2:], root / f"node{index}.log"
            )
            processes.append(process)
            addresses.append(address)
        with trio.fail_after(60):
            while len(publisher.peers()) < 2:
                await trio.sleep(0.1)
        await trio.sleep(5)  # a few gossip heartbeats and a peer exchange, so the mesh settles
        for block in blocks[1:]:
            published[block.number] = time.time()
            await publisher.forged(block)  # taken by its intake, then gossiped
            await trio.sleep(interval)
        await trio.sleep(2)
        publisher.stop()
    return published


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two blocks")
    arguments = parser.parse_args()
    chain = BenchChain(20)
    for _ in range(arguments.blocks + WARM_UP):
        head = chain.state.head()
        assert head is not None
        chain.apply(chain.forge([], head.time + 10))
    reference = MemoryState()
    reference.apply(validate_block(reference, chain.blocks[0]), chain.blocks[0].hash)
    start = time.perf_counter()
    for block in chain.blocks[1:]:
        reference.apply(validate_block(reference, block), block.hash)
    validation_ms = (time.perf_counter() - start) / (len(chain.blocks) - 1) * 1000
    with tempfile.TemporaryDirectory(prefix="june-bench-propagation-") as scratch:
        root = Path(scratch)
        publisher = Node(datadir_at_block_zero(root / "publisher", chain.blocks[0]))
        processes: list[subprocess.Popen[bytes]] = []
        try:
            published = trio.run(
                run_network, publisher, chain.blocks, root, arguments.nodes, arguments.interval, processes
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            publisher.close()
        latencies: list[float] = []
        for index in range(arguments.nodes):
            text = (root / f"node{index}.log").read_text(errors="replace")
            for number, applied in APPLIED.findall(text):
                if int(number) in published and int(number) > WARM_UP:
                    latencies.append((float(applied) - published[int(number)]) * 1000)
        shutil.rmtree(root, ignore_errors=True)
    expected = arguments.nodes * arguments.blocks
    latencies.sort()
    p90 = latencies[int(len(latencies) * 0.9) - 1] if latencies else float("nan")
    median = statistics.median(latencies) if latencies else float("nan")
    print(f"one block's validation here: {validation_ms:.1f} ms")
    print(f"{len(latencies)}/{expected} block arrivals measured across {arguments.nodes} node processes")
    print(
        f"propagation: median {median:.0f} ms ({median / validation_ms:.0f}x one validation), "
        f"90th percentile {p90:.0f} ms (targets: 100 ms, 300 ms)"
    )


if __name__ == "__main__":
    main()
