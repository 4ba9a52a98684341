"""`juned reindex` killed at any instant: the next command finds a whole store with the same head.

A real `juned reindex` process is killed with SIGKILL at seeded random moments spread over the
measured duration of a full reindex; and every intermediate state of the swap (see
`node.datadir.finish_swap`) is built by hand and opened, since a random kill rarely lands in the
few milliseconds the swap takes.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from node.commands.data import describe_status
from node.datadir import OLD_NAME, REINDEX_NAME, STORE_NAME, SWAP_MARKER, mark_swap, open_store
from tests.cli import BIN, run
from tests.node.test_store_integrity import history, make_datadir
from tests.protocol.chain_builder import Chain

__all__ = ["history"]  # the module fixture, shared with the integrity tests

KILLS = 12  # two of them while it starts (every sixth); the rest spread over its work


def head_of(datadir: Path, *, process: bool = True) -> dict[str, object]:
    """The head `juned status` shows (`process` False: the same function in this process)."""
    if not process:
        status: dict[str, object] = describe_status(datadir)
        return status["head"]  # type: ignore[return-value]
    result = run("juned", "status", "--datadir", str(datadir), "--json")
    assert result.returncode == 0, result.stderr
    head: dict[str, object] = json.loads(result.stdout)["head"]
    return head


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, history: Chain) -> Path:
    return make_datadir(tmp_path_factory.mktemp("reindex") / "node", history)


def copy_of(built: Path, tmp_path: Path) -> Path:
    datadir = tmp_path / "node"
    shutil.copytree(built, datadir)
    return datadir


def start_reindex(datadir: Path) -> tuple[subprocess.Popen[bytes], float]:
    """A `juned reindex` process, once it has started building `db.reindex/` (the seconds that took)."""
    started = time.monotonic()
    child = subprocess.Popen(
        [str(BIN / "juned"), "reindex", "--datadir", str(datadir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not (datadir / REINDEX_NAME).exists() and child.poll() is None:
        time.sleep(0.002)
        assert time.monotonic() - started < 30
    return child, time.monotonic() - started


def test_reindex_killed_at_random_moments_leaves_a_whole_store(tmp_path: Path, built: Path) -> None:
    datadir = copy_of(built, tmp_path)
    expected = head_of(datadir)
    child, startup = start_reindex(datadir)
    began = time.monotonic()
    assert child.wait(timeout=60) == 0
    work = time.monotonic() - began  # replay, checks and swap: where the kills are aimed
    assert head_of(datadir) == expected
    rng = random.Random(13)
    states: dict[str, int] = {}
    for kill in range(KILLS):
        if kill % 6 == 0:  # a few kills while it starts and opens the store
            child = subprocess.Popen(
                [str(BIN / "juned"), "reindex", "--datadir", str(datadir)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0, startup))  # a random instant (not a wait for a condition)
        else:
            child, _ = start_reindex(datadir)
            time.sleep(rng.uniform(0, work * 1.2))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        left = [name for name in (REINDEX_NAME, SWAP_MARKER, OLD_NAME) if (datadir / name).exists()]
        phase = "killed while starting" if kill % 6 == 0 else "killed after the swap"
        state = "+".join(left) or ("finished" if child.returncode == 0 else phase)
        states[state] = states.get(state, 0) + 1
        # `juned status` as a process after the first kills, then its function in this process
        assert head_of(datadir, process=kill < 4) == expected, state
        assert not (datadir / SWAP_MARKER).exists() and not (datadir / OLD_NAME).exists()
        shutil.rmtree(datadir / REINDEX_NAME, ignore_errors=True)  # as the next reindex would
    assert head_of(datadir) == expected
    print(f"reindex: {startup:.2f} s to start, {work:.2f} s of work; {KILLS} kills left {states}")
    assert len(states) >= 2  # the kills were spread over the run


@pytest.mark.parametrize(
    "step",
    [
        "built",  # db.reindex complete, no marker yet
        "marked",  # marker written
        "moved aside",  # db -> db.old
        "swapped",  # db.reindex -> db
        "unmarked",  # marker deleted, db.old still there
        "half deleted",  # db.old partly deleted
        "older juned",  # a swap by an older juned killed between its renames: no marker, no db
    ],
)
def test_every_state_of_the_swap_opens_on_a_whole_store(tmp_path: Path, built: Path, step: str) -> None:
    datadir = copy_of(built, tmp_path)
    store, fresh, old = datadir / STORE_NAME, datadir / REINDEX_NAME, datadir / OLD_NAME
    _config, before = open_store(datadir)
    head = before.head_pointer()
    before.close()
    shutil.copytree(store, fresh)  # stands for the rebuilt store: the same blocks and state
    if step not in ("built", "older juned"):
        mark_swap(datadir)
    if step in ("moved aside", "swapped", "unmarked", "half deleted", "older juned"):
        store.rename(old)
    if step in ("swapped", "unmarked", "half deleted"):
        fresh.rename(store)
    if step in ("unmarked", "half deleted"):
        (datadir / SWAP_MARKER).unlink()
    if step == "half deleted":
        for table in sorted(old.glob("*.ldb"))[:1]:
            table.unlink()
    _config, after = open_store(datadir)
    try:
        assert after.head_pointer() == head
    finally:
        after.close()
    assert not (datadir / SWAP_MARKER).exists()
    assert not old.exists()
    assert fresh.exists() == (step in ("built", "older juned"))  # a partial build is left to reindex
