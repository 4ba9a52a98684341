"""A full disk, said in one line: LevelDB's "No space left on device" is a `DiskFull`, logged once by a
running node, never a reason to quarantine or blame a block, answered 503 by the API, and forgotten
once space returns. `juned import` on a real small filesystem (a tmpfs mounted in a user namespace)
says it in one line and resumes once space is freed."""

import base64
import errno
import logging
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import plyvel
import pytest
import trio

from node.api.app import build_app
from node.chain import ChainManager, Outcome
from node.chainfile import write_chain
from node.clock import Clock
from node.datadir import NodeConfig, open_store, write_config
from node.errors import DiskFull
from node.intake import BlockIntake
from node.node import Node
from node.p2p.misbehaviour import Offence
from node.store import LevelStore
from tests.cli import BIN
from tests.node.api.conftest import api_over, build_chain
from tests.node.test_p2p_sync import datadir, wait_until
from tests.protocol.chain_builder import Chain

ENOSPC = plyvel.IOError(b"IO error: /x/db/000005.log: No space left on device")


class FullDisk:
    """Stands between the store's guard and LevelDB: while `full`, every write fails as LevelDB
    fails on a full disk (reads go through)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.full = False
        self.refused = 0
        self.reopened = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def _check(self) -> None:
        if self.full:
            self.refused += 1
            raise ENOSPC

    def put(self, *args: Any, **options: Any) -> None:
        self._check()
        self.db.put(*args, **options)

    def delete(self, *args: Any, **options: Any) -> None:
        self._check()
        self.db.delete(*args, **options)

    @contextmanager
    def write_batch(self, **options: Any) -> Iterator[Any]:
        with self.db.write_batch(**options) as batch:
            yield batch
            if self.full:  # the batch is dropped: raised before LevelDB writes it
                self._check()


def fill(store: LevelStore) -> FullDisk:
    """Put a `FullDisk` under `store`, also when the guard reopens LevelDB."""
    disk = FullDisk(store.db._db)
    store.db._db = disk
    opener = store.db.opener

    def reopen() -> FullDisk:
        disk.db = opener()
        disk.reopened += 1
        return disk

    store.db.opener = reopen
    return disk


@pytest.fixture
def node_parts(tmp_path: Path) -> Any:
    chain = Chain(founders=5)
    for _ in range(2):
        chain.write()
    _config, store = open_store(datadir(tmp_path / "node", chain.blocks))
    clock = Clock()
    clock.offset = chain.blocks[-1].time + 1000 - clock.now()
    blamed: list[tuple[Any, Offence]] = []
    intake = BlockIntake(ChainManager(store), clock, lambda peer, offence, _d: blamed.append((peer, offence)))
    yield chain, store, intake, blamed
    store.close()


def test_a_block_not_written_for_lack_of_space_is_neither_quarantined_nor_blamed(
    node_parts: Any, caplog: pytest.LogCaptureFixture
) -> None:
    chain, store, intake, blamed = node_parts
    caplog.set_level(logging.WARNING)
    head = store.head_pointer()
    disk = fill(store)
    disk.full = True
    block = chain.block()
    for _retry in range(3):  # gossip, then sync rounds, bring it again
        result = intake.take(block, "peer")
        assert result.outcome is Outcome.WAITING and "disk full" in result.reason
    assert store.head_pointer() == head and not blamed
    assert intake.refusal(block) is None  # not quarantined: relayed and taken again
    full = [r for r in caplog.records if "disk full" in r.getMessage()]
    assert len(full) == 1 and full[0].levelno == logging.WARNING
    assert "the node stops accepting writes until space returns" in full[0].getMessage()
    disk.full = False  # space is back: the next attempt is taken
    assert intake.take(block, "peer").outcome is Outcome.APPLIED
    assert store.head_pointer() != head and not blamed
    assert "disk space is back" in caplog.text
    assert disk.reopened == 3  # LevelDB reopened before each write while full (space is back here)
    store.close()
    _config, reopened = open_store(store.db.path.parent)  # consistent on disk
    assert reopened.head_pointer() == (block.number, block.hash, block.state_digest)
    reopened.close()


def test_a_full_disk_is_a_typed_error_for_every_write(tmp_path: Path) -> None:
    store = LevelStore.open(tmp_path / "db")
    disk = fill(store)
    disk.full = True
    with pytest.raises(DiskFull, match=r"disk full: the store .* could not be written"):
        store.db.put(b"k", b"v")
    with pytest.raises(DiskFull):
        store.remember_invalid(b"\x01" * 32, "test")
    disk.full = False
    store.remember_invalid(b"\x01" * 32, "test")
    store.close()
    with pytest.raises(DiskFull, match="configuration"):
        original = Path.write_text

        def no_space(self: Path, *args: Any, **kwargs: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))

        try:
            Path.write_text = no_space  # type: ignore[method-assign]
            write_config(tmp_path, NodeConfig(currency="x", genesis=b"\x00" * 32))  # type: ignore[arg-type]
        finally:
            Path.write_text = original  # type: ignore[method-assign]


async def test_submissions_are_answered_503_while_the_disk_is_full(tmp_path: Path) -> None:
    chain = build_chain()
    with api_over(tmp_path / "db", chain) as api:
        disk = fill(api.store)
        disk.full = True
        payment = chain.pay("carol", {"dave": 100})
        body = {"document": base64.b64encode(payment.to_bytes()).decode()}
        transport = httpx.ASGITransport(app=build_app(api))
        async with httpx.AsyncClient(transport=transport, base_url="http://june") as http:
            refused = await http.post("/documents", json=body)
            assert refused.status_code == 503 and "disk is full" in refused.json()["error"]
            assert (await http.get("/node")).status_code == 200  # reads still answered
            disk.full = False
            accepted = await http.post("/documents", json=body)
        # nothing of the refused document was kept: the retry is accepted, not "known"
        assert accepted.status_code == 200 and accepted.json()["result"] == "accepted"
        assert not api.mempool.consistency_errors()
        assert disk.refused >= 1


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs -o size=1m t /mnt"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0


SCRIPT = """
set -u
mount -t tmpfs -o size=300k tmpfs "$MNT"
"$J" init --datadir "$MNT/n" --genesis "$CHAIN" >/dev/null 2>&1 || exit 90
"$J" import --datadir "$MNT/n" "$CHAIN" >"$OUT/import.out" 2>"$OUT/import.err"; echo $? >"$OUT/import.rc"
mount -o remount,size=64m "$MNT"
"$J" status --datadir "$MNT/n" --json >"$OUT/status1.out" 2>&1 || exit 91
"$J" import --datadir "$MNT/n" "$CHAIN" >"$OUT/import2.out" 2>&1 || exit 92
"$J" status --datadir "$MNT/n" --json >"$OUT/status2.out" 2>&1 || exit 93
"""


@pytest.mark.skipif(not _unshare_works(), reason="no user namespace to mount a small tmpfs in")
def test_import_on_a_full_filesystem_says_so_in_one_line_and_resumes(tmp_path: Path) -> None:
    import json

    from tests.node.test_store_integrity import BLOCKS
    from tests.protocol.rules.test_chain_simulation import Simulation

    simulation = Simulation(5)
    while len(simulation.chain.blocks) < BLOCKS:
        simulation.step()
    chain_file = tmp_path / "history.chain"
    write_chain(chain_file, (b.to_bytes() for b in simulation.chain.blocks))  # ~150 KB; the store ~600 KB
    (tmp_path / "mnt").mkdir()
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", SCRIPT],
        env={
            "MNT": str(tmp_path / "mnt"),
            "J": str(BIN / "juned"),
            "CHAIN": str(chain_file),
            "OUT": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert (tmp_path / "import.rc").read_text().strip() == "1"
    error = (tmp_path / "import.err").read_text()
    lines = [line for line in error.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: disk full: block "), error
    assert "nothing was damaged" in lines[0] and "Traceback" not in error
    stopped_at = json.loads((tmp_path / "status1.out").read_text())["head"]["number"]
    assert 0 < stopped_at < BLOCKS - 1  # consistent, part of the chain
    head = json.loads((tmp_path / "status2.out").read_text())["head"]
    assert head["number"] == BLOCKS - 1
    assert head["hash"] == simulation.chain.blocks[-1].hash.hex().upper()


STICKY = """
import os, subprocess, sys
from pathlib import Path
from node.errors import DiskFull
from node.store import LevelStore

mount = Path(sys.argv[1])
store = LevelStore.open(mount / "db")
written = 0
try:
    while True:  # unsynced writes: the memtable flush, in LevelDB's background, is what fails
        with store.db.write_batch() as batch:
            batch.put(b"Z" + written.to_bytes(8, "big"), os.urandom(4000))
        written += 1
except DiskFull:
    pass
try:
    store.db.put(b"still", b"full")
    raise SystemExit("a write succeeded on a full disk")
except DiskFull:
    pass
subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)
store.db.put(b"after", b"space is back", sync=True)
store.close()
store = LevelStore.open(mount / "db")
assert store.db.get(b"after") == b"space is back"
assert store.db.get(b"Z" + (written - 1).to_bytes(8, "big")) is not None
print("resumed after", written, "writes")
"""


@pytest.mark.skipif(not _unshare_works(), reason="no user namespace to mount a small tmpfs in")
def test_a_store_whose_background_flush_failed_resumes_once_space_returns(tmp_path: Path) -> None:
    """LevelDB refuses every write after a failed memtable flush until reopened: the guard reopens it."""
    (tmp_path / "mnt").mkdir()
    script = f'mount -t tmpfs -o size=6m tmpfs "$1" && exec "{BIN / "python"}" -c "$2" "$1"'
    done = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
            str(tmp_path / "mnt"),
            STICKY,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[2],
        env={"PYTHONPATH": str(Path(__file__).parents[2]), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resumed after" in done.stdout


async def test_a_running_node_with_a_full_disk_resumes_syncing_once_space_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A follower whose store refuses writes: it logs it once, blames and quarantines nothing, keeps
    its head; once space returns, its next sync round brings it level with its peer."""
    chain = Chain(founders=5)
    for _ in range(6):
        chain.write()
    caplog.set_level(logging.WARNING)
    full = Node(datadir(tmp_path / "a", chain.blocks))
    follower = Node(datadir(tmp_path / "b", chain.blocks[:1]))
    disk = fill(follower.store)
    disk.full = True
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(full.run)
            await nursery.start(follower.run)
            await follower.connect(full.address)
            await wait_until(lambda: disk.refused >= 3, 30, "the follower tried several sync rounds")
            assert follower.head() == (0, chain.blocks[0].hash, chain.blocks[0].state_digest)
            assert not follower.intake._quarantined
            assert not follower.network.is_banned(full.network.peer_id)
            disk.full = False
            await wait_until(lambda: follower.head() == full.head(), 30, "the follower catches up")
            full.stop()
            follower.stop()
    finally:
        full.close()
        follower.close()
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("disk full:")]
    assert len(warnings) == 1 and "until space returns" in warnings[0]
    assert "disk space is back" in caplog.text
