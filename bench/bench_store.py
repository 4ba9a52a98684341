"""Blocks applied per second on LevelDB against the in-memory state (same blocks, same run), and
the resident memory of a node process holding the chain.

Default: 1,000 members and 5,000 blocks (about a minute). `--full`: the design.md §5 scale,
10,000 members and 100,000 blocks (several minutes). Each replay runs in its own process, so its
peak resident memory is its own.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _chain import START, BenchChain
from _common import ROOT

from node.chainfile import read_chain, write_chain
from protocol.params import dev_parameters
from protocol.rules.block import validate_block
from protocol.state import MemoryState


def generate(path: Path, members: int, blocks: int) -> None:
    # A bench currency: one certification to join, so a large web of trust builds in a few blocks
    # (block 0 must stay under the 1 MB block cap); every other rule is the dev profile's.
    founders = min(members, 1500)
    chain = BenchChain(members=founders, params=replace(dev_parameters(START), sig_qty=1), certifiers=1)
    chain.grow_to(members)
    payments = 0
    start = time.perf_counter()
    while len(chain.blocks) < blocks:
        head = chain.state.head()
        assert head is not None
        pending = []
        if any(b.dividend for b in chain.blocks) and payments < members:
            pending = [chain.payment(payments, (payments + 1) % members)]
            payments += 1
        block = chain.forge(pending, head.time + 10)
        chain.apply(block)
    write_chain(path, (b.to_bytes() for b in chain.blocks))
    print(f"generated {blocks} blocks for {members} members in {time.perf_counter() - start:.0f} s")


def replay(kind: str, path: Path, directory: Path) -> None:
    """Run in a child process: replay the chain file, print blocks/s and peak memory as JSON."""
    if kind == "leveldb":
        from node.store import LevelStore

        store = LevelStore.open(directory / "db")
        window = 100
        start = time.perf_counter()
        count = 0
        for block in read_chain(path):  # streamed: the process holds one block at a time
            store.apply_block(block, validate_block(store, block), fork_window=window)
            count += 1  # noqa: SIM113
    else:
        state = MemoryState()
        start = time.perf_counter()
        count = 0
        for block in read_chain(path):
            state.apply(validate_block(state, block), block.hash)
            count += 1
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"blocks": count, "seconds": elapsed, "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="10,000 members and 100,000 blocks")
    parser.add_argument("--replay", choices=["leveldb", "memory"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.replay:
        replay(arguments.replay, arguments.file, arguments.dir)
        return
    members, blocks = (10_000, 100_000) if arguments.full else (1_000, 5_000)
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        chain_file = directory / "bench.chain"
        generate(chain_file, members, blocks)
        results = {}
        for kind in ("memory", "leveldb"):
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--replay",
                    kind,
                    "--file",
                    str(chain_file),
                    "--dir",
                    str(directory),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            results[kind] = json.loads(output)
    memory, level = results["memory"], results["leveldb"]
    memory_rate = memory["blocks"] / memory["seconds"]
    level_rate = level["blocks"] / level["seconds"]
    print(f"{members} members, {blocks} blocks (validated, every signature checked)")
    print(f"   in-memory state: {memory_rate:,.0f} blocks/s, peak resident {memory['peak_mb']:.0f} MB")
    print(
        f"   LevelDB store:   {level_rate:,.0f} blocks/s = {level_rate / memory_rate:.0%} of in-memory, "
        f"peak resident {level['peak_mb']:.0f} MB (target < 250 MB at 10,000 members / 100,000 blocks)"
    )


if __name__ == "__main__":
    main()
