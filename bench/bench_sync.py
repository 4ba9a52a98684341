"""Sync over libp2p on loopback against the store's local apply rate, in the same run.

The reference: the chain imported block by block through the chain manager into a LevelDB store
(what `juned import` does: every rule, every signature, one synced batch per block). Then 1 and 3
serving nodes (`juned run` processes) hold that chain, and a newcomer in this process syncs it over
libp2p from them. The ratio says what the network path costs on top of validation and storage.
While the newcomer syncs, its client API is asked `GET /node` every 50 ms from another thread and
its event loop's stalls are timed: blocks are applied off the loop, so both stay short however
heavy the blocks (issue 17).

Default: 1,000 members and 3,000 blocks (a couple of minutes). `--blocks`/`--members` to change it.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)
import httpx
import trio
from bench_store import generate

from node.audit.replay import audit
from node.audit.signatures import default_workers
from node.audit.source import ChainFileSource
from node.chain import ChainManager
from node.chainfile import read_chain
from node.datadir import STORE_NAME, NodeConfig, write_config
from node.node import Node
from node.store import LevelStore
from protocol.documents import Block
from protocol.rules.block import validate_block
from protocol.state import MemoryState

JUNED = str(Path(sys.executable).with_name("juned"))
ADDRESS = re.compile(rb"node listening on (\S+)")


def import_chain(path: Path, datadir: Path) -> tuple[int, float]:
    """Import the chain file into a new data directory; (blocks, seconds)."""
    store = LevelStore.open(datadir / STORE_NAME)
    manager: ChainManager | None = None
    start = time.perf_counter()
    count = 0
    for block in read_chain(path):
        if manager is None:
            manager = ChainManager(store, genesis_hash=block.hash)
            write_config(datadir, NodeConfig(currency=block.currency, genesis=block.hash))
        manager.add_block(block)
        count += 1
    elapsed = time.perf_counter() - start
    store.close()
    return count, elapsed


def replay_in_memory(path: Path) -> float:
    """Seconds to validate and apply every block after block 0 on an in-memory state."""
    blocks = list(read_chain(path))
    state = MemoryState()
    state.apply(validate_block(state, blocks[0]), blocks[0].hash)
    start = time.perf_counter()
    for block in blocks[1:]:
        state.apply(validate_block(state, block), block.hash)
    return time.perf_counter() - start


def start_server(
    datadir: Path, options: list[str] | None = None, log: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A `juned run` process over `datadir`, and its address once it listens."""
    process = subprocess.Popen(
        [JUNED, "run", "--datadir", str(datadir), *(options or [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if log is None else log.open("wb"),
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = ADDRESS.search(process.stdout.readline())
        if match:
            return process, match.group(1).decode()
    process.kill()
    raise RuntimeError("a serving node did not start")


def first_block_only(chain_file: Path, datadir: Path) -> Path:
    return datadir_at_block_zero(datadir, next(read_chain(chain_file)))


def datadir_at_block_zero(datadir: Path, block: Block) -> Path:
    """A data directory holding only `block` (block 0)."""
    store = LevelStore.open(datadir / STORE_NAME)
    ChainManager(store, genesis_hash=block.hash).add_block(block)
    store.close()
    write_config(datadir, NodeConfig(currency=block.currency, genesis=block.hash))
    return datadir


@dataclass
class Responsiveness:
    """The newcomer's slowest API answer and longest event-loop stall during the sync, seconds."""

    api: float = 0.0
    loop: float = 0.0
    answers: int = 0


def ask_api(url: str, stop: threading.Event, seen: Responsiveness) -> None:
    """`GET /node` every 50 ms until `stop` (in its own thread: a client, not the node's loop)."""
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(url + "/node").raise_for_status()
            seen.api = max(seen.api, time.perf_counter() - started)
            seen.answers += 1
            stop.wait(0.05)


async def time_stalls(seen: Responsiveness) -> None:
    """The longest a 5 ms sleep overshot: how long the event loop was kept from other tasks."""
    while True:
        started = trio.current_time()
        await trio.sleep(0.005)
        seen.loop = max(seen.loop, trio.current_time() - started - 0.005)


async def sync_from(addresses: list[str], datadir: Path, target: int) -> tuple[float, Responsiveness]:
    node = Node(datadir)
    seen = Responsiveness()
    stop = threading.Event()
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            nursery.start_soon(time_stalls, seen)
            poller = threading.Thread(target=ask_api, args=(node.api_url, stop, seen), daemon=True)
            poller.start()
            start = time.perf_counter()
            for address in addresses:
                await node.connect(address)
            with trio.fail_after(3600):
                while (head := node.head()) is None or head[0] < target:
                    await trio.sleep(0.05)
            elapsed = time.perf_counter() - start
            stop.set()
            await trio.to_thread.run_sync(poller.join)
            node.stop()
            nursery.cancel_scope.cancel()
        return elapsed, seen
    finally:
        stop.set()
        node.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=3000)
    parser.add_argument("--chain", type=Path, help="sync this chain file instead (e.g. a Ğ1-scale one)")
    parser.add_argument("--peers", type=int, nargs="+", default=[1, 3], help="serving nodes per round")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="june-bench-sync-") as scratch:
        root = Path(scratch)
        chain_file = arguments.chain or root / "chain.june"
        if arguments.chain is None:
            generate(chain_file, arguments.members, arguments.blocks)
        count, local = import_chain(chain_file, root / "reference")
        local_rate = (count - 1) / local
        memory_rate = (count - 1) / replay_in_memory(chain_file)
        print(f"in-memory replay (every rule and signature, one core): {memory_rate:,.0f} blocks/s")
        # the auditor with and without signature workers (on a short chain, starting the worker
        # processes costs more than they save): the faster is the reference
        rates = {}
        for workers in sorted({0, default_workers()}):
            report = audit(ChainFileSource(chain_file), workers=workers)
            rates[workers] = report.blocks_read / report.elapsed
        audit_rate = max(rates.values())
        shown = ", ".join(f"{rate:,.0f} blocks/s with {w} worker(s)" for w, rate in rates.items())
        print(f"auditor replay (`juned audit`): {shown}")
        print(f"local apply (chain manager + LevelDB): {local_rate:,.0f} blocks/s")
        for peers in arguments.peers:
            servers = []
            try:
                for index in range(peers):
                    shutil.copytree(root / "reference", root / f"server{peers}-{index}")
                    servers.append(start_server(root / f"server{peers}-{index}"))
                newcomer = root / f"newcomer{peers}"
                first_block_only(chain_file, newcomer)
                elapsed, seen = trio.run(sync_from, [address for _, address in servers], newcomer, count - 1)
            finally:
                for process, _ in servers:
                    process.terminate()
                    process.wait(timeout=30)
            rate = (count - 1) / elapsed
            print(
                f"sync over libp2p from {peers} peer(s): {rate:,.0f} blocks/s = "
                f"{rate / local_rate:.0%} of local apply, {rate / audit_rate:.0%} of the auditor's replay "
                "(target ≥ 50 %)"
            )
            print(
                f"   meanwhile: slowest API answer {seen.api * 1000:,.0f} ms ({seen.answers} answers), "
                f"longest event-loop stall {seen.loop * 1000:,.0f} ms"
            )


if __name__ == "__main__":
    main()
