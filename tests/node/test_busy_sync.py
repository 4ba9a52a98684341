"""A node applying heavy blocks keeps answering: a real `juned run` newcomer syncs a chain whose
every block costs it a quarter of a second of CPU (validation made heavy in that process only, the
GIL held as real validation holds it), and its client API answers `GET /node` within a second all
along; the sync completes. Killed mid-sync, it keeps a whole earlier head and resumes.

Real processes on 127.0.0.1 only; every wait polls a condition with a bounded timeout."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from node.datadir import STORE_NAME, NodeConfig, read_config, write_config
from node.store import LevelStore
from protocol.documents import Block
from tests.node.test_live_commands import RunningNode, poll
from tests.node.test_network import free_port
from tests.node.test_p2p_sync import datadir
from tests.protocol.chain_builder import Chain

BLOCKS = 30
#: CPU seconds each block costs the newcomer (the issue's 8,000-member UD blocks cost 0.56 s).
HEAVY = 0.25
#: Longest wait for the client API while the node applies blocks.
ANSWER_WITHIN = 1.0

#: `juned run`, with block validation made heavy by a busy loop (which holds the GIL between the
#: interpreter's switches, like the rules' own Python code).
HEAVY_RUN = f"""
import sys, time
import node.chain
real = node.chain.validate_block
def heavy(view, block, **options):
    end = time.perf_counter() + {HEAVY}
    while time.perf_counter() < end:
        pass
    return real(view, block, **options)
node.chain.validate_block = heavy
from node.cli import main
sys.argv = ["juned", *sys.argv[1:]]
main()
"""


def configure(path: Path, blocks: list[Block]) -> Path:
    """A data directory holding `blocks`, on free loopback ports."""
    datadir(path, blocks)
    write_config(
        path,
        NodeConfig(
            currency=blocks[0].currency,
            genesis=blocks[0].hash,
            listen=f"/ip4/127.0.0.1/tcp/{free_port()}",
            api=f"127.0.0.1:{free_port()}",
        ),
    )
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Chain, str]]:
    """A chain of `BLOCKS` blocks, and the address of a `juned run` serving it."""
    chain = Chain(founders=5)
    for _ in range(BLOCKS):
        chain.write()
    server = RunningNode(configure(tmp_path / "server", chain.blocks)).wait_ready()
    try:
        yield chain, server.get("/node")["p2p_address"]
    finally:
        server.stop()


def start_heavy(datadir: Path, address: str) -> tuple[subprocess.Popen[bytes], str]:
    """The heavy newcomer syncing from `address`, and its API's URL once it answers."""
    with (datadir / "run.err").open("wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", HEAVY_RUN, "run", "--datadir", str(datadir), "--bootstrap", address],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            stdin=subprocess.DEVNULL,
        )
    api = f"http://{read_config(datadir).api}"
    try:
        poll(lambda: answers(api), "the newcomer's API answers", timeout=20)
    except BaseException:
        process.kill()
        process.wait(timeout=20)
        raise
    return process, api


def test_the_api_answers_while_a_heavy_sync_applies_blocks(tmp_path: Path, served: tuple[Chain, str]) -> None:
    chain, address = served
    target = chain.blocks[-1].number
    newcomer_dir = configure(tmp_path / "newcomer", chain.blocks[:1])
    newcomer, api = start_heavy(newcomer_dir, address)
    try:
        busy: list[float] = []  # answer times while the head is between block 0 and the target
        slowest = 0.0
        deadline = time.monotonic() + BLOCKS * HEAVY * 3 + 15
        head = 0
        while head < target:
            assert time.monotonic() < deadline, f"the sync did not complete (head {head} of {target})"
            assert newcomer.poll() is None, (newcomer_dir / "run.err").read_text()
            started = time.perf_counter()
            answer = httpx.get(api + "/node", timeout=10).json()
            elapsed = time.perf_counter() - started
            slowest = max(slowest, elapsed)
            head = answer["head"]["number"]
            if 0 < head < target:
                busy.append(elapsed)
            time.sleep(0.05)
        print(f"{len(busy)} answers during the sync, slowest {slowest:.3f} s")
        assert slowest < ANSWER_WITHIN, f"the API took {slowest:.2f} s to answer during the sync"
        assert len(busy) >= 5, f"too few answers during the sync to judge ({len(busy)})"
    finally:
        newcomer.terminate()
        newcomer.wait(timeout=20)


def test_a_node_killed_mid_sync_keeps_a_whole_head_and_resumes(
    tmp_path: Path, served: tuple[Chain, str]
) -> None:
    """Blocks are written in synced batches and the head moves with them: killed (SIGKILL) while
    it applies, the newcomer's store holds a consistent earlier head, and a restart completes."""
    chain, address = served
    target = chain.blocks[-1].number
    newcomer_dir = configure(tmp_path / "newcomer", chain.blocks[:1])
    newcomer, api = start_heavy(newcomer_dir, address)
    try:
        poll(lambda: 0 < head_of(api) < target or None, "the newcomer is half-way", timeout=30)
    finally:
        newcomer.kill()
        newcomer.wait(timeout=20)
    store = LevelStore.open(newcomer_dir / STORE_NAME, create=False)
    try:
        store.check_integrity()
        head = store.head_pointer()
        assert head is not None and 0 < head[0] <= target  # (< target unless it finished as killed)
        assert head[1] == chain.blocks[head[0]].hash and head[2] == chain.blocks[head[0]].state_digest
    finally:
        store.close()
    restarted = RunningNode(newcomer_dir, "--bootstrap", address).wait_ready()
    try:
        poll(
            lambda: head_of(restarted.url) == target or None, "the restarted newcomer completes its sync", 30
        )
    finally:
        restarted.stop()


def head_of(api: str) -> int:
    number: int = httpx.get(api + "/node", timeout=10).json()["head"]["number"]
    return number


def answers(api: str) -> bool | None:
    try:
        return httpx.get(api + "/node", timeout=2).status_code == 200 or None
    except httpx.HTTPError:
        return None
