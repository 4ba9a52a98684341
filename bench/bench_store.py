"""Blocks applied per second on LevelDB against the in-memory state (same blocks, same run), and
the resident memory of a node process holding the chain.

Three LevelDB replays: LevelDB's default options with one synced batch per block (the reference
for the store's own tuning), the store's options (`LevelStore.open`: bloom filters, block cache,
write buffer) with one synced batch per block (`juned import`, gossip), and the store's options
with the chain manager's write-back runs (`ChainManager.extend_run`: a sync's downloaded ranges).

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
from typing import TYPE_CHECKING

from _chain import START, BenchChain
from _common import ROOT

from node.chainfile import read_chain, write_chain
from protocol.documents import Block
from protocol.params import dev_parameters
from protocol.rules.block import validate_block
from protocol.state import MemoryState

if TYPE_CHECKING:
    from node.chain import ChainManager

#: Blocks per downloaded range, as `node.p2p.syncer.CHUNK` (not imported: libp2p would weigh on
#: the replay's resident memory).
SYNC_CHUNK = 100


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
    if kind in ("leveldb", "leveldb-default"):
        from node.store import LevelStore, level

        if kind == "leveldb-default":  # LevelDB's own defaults: no filter, 8 MB cache, 4 MB memtable
            level.BLOOM_FILTER_BITS, level.BLOCK_CACHE_BYTES, level.WRITE_BUFFER_BYTES = 0, 8 << 20, 4 << 20
        store = LevelStore.open(directory / kind)
        window = 100
        start = time.perf_counter()
        count = 0
        for block in read_chain(path):  # streamed: the process holds one block at a time
            store.apply_block(block, validate_block(store, block), fork_window=window)
            count += 1  # noqa: SIM113
    elif kind == "leveldb-run":
        from node.chain import ChainManager
        from node.store import LevelStore

        store = LevelStore.open(directory / kind)
        manager: ChainManager | None = None
        start = time.perf_counter()
        count = 0
        chunk: list[Block] = []
        for block in read_chain(path):  # in ranges, as a sync downloads them
            if manager is None:
                manager = ChainManager(store, genesis_hash=block.hash)
                manager.add_block(block)
                count += 1
                continue
            chunk.append(block)
            if len(chunk) == SYNC_CHUNK:
                count += _run(manager, chunk)
                chunk = []
        if manager is not None and chunk:
            count += _run(manager, chunk)
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


def _run(manager: "ChainManager", blocks: list[Block]) -> int:
    """Take `blocks` as the node's intake takes a downloaded range: runs until all are applied."""
    taken = 0
    while taken < len(blocks):
        run = manager.extend_run(blocks[taken:])
        if run.error is not None:
            raise run.error
        taken += len(run.results)
    return taken


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="10,000 members and 100,000 blocks")
    parser.add_argument("--members", type=int, help="instead of the default 1,000")
    parser.add_argument("--blocks", type=int, help="instead of the default 5,000")
    parser.add_argument("--rounds", type=int, default=2, help="replays of each kind, interleaved; the best")
    parser.add_argument(
        "--replay", choices=["leveldb", "leveldb-default", "leveldb-run", "memory"], help=argparse.SUPPRESS
    )
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.replay:
        replay(arguments.replay, arguments.file, arguments.dir)
        return
    members, blocks = (10_000, 100_000) if arguments.full else (1_000, 5_000)
    members, blocks = arguments.members or members, arguments.blocks or blocks
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        chain_file = directory / "bench.chain"
        generate(chain_file, members, blocks)
        results: dict[str, dict[str, float]] = {}
        kinds = ["memory"] + ["leveldb-default", "leveldb", "leveldb-run"] * arguments.rounds
        for round_number, kind in enumerate(kinds):  # interleaved: the machine's drift hits all kinds
            (directory / str(round_number)).mkdir()
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--replay",
                    kind,
                    "--file",
                    str(chain_file),
                    "--dir",
                    str(directory / str(round_number)),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            result = json.loads(output)
            best = results.get(kind)
            if best is None or result["seconds"] < best["seconds"]:
                results[kind] = result
    memory = results["memory"]
    memory_rate = memory["blocks"] / memory["seconds"]
    default = results["leveldb-default"]
    default_rate = default["blocks"] / default["seconds"]
    print(f"{members} members, {blocks} blocks (validated, every signature checked)")
    print(f"   in-memory state: {memory_rate:,.0f} blocks/s, peak resident {memory['peak_mb']:.0f} MB")
    labels = {
        "leveldb-default": "LevelDB, default options, a batch per block",
        "leveldb": "LevelDB, store options, a batch per block",
        "leveldb-run": "LevelDB, store options, write-back runs",
    }
    for kind, label in labels.items():
        level = results[kind]
        level_rate = level["blocks"] / level["seconds"]
        print(
            f"   {label + ':':46} {level_rate:,.0f} blocks/s = {level_rate / memory_rate:.0%} of in-memory, "
            f"{level_rate / default_rate:.2f}× the default options; peak resident {level['peak_mb']:.0f} MB"
        )
    print("   (peak resident target < 250 MB at 10,000 members / 100,000 blocks)")


if __name__ == "__main__":
    main()
