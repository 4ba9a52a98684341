"""A store that knows when it is damaged: bytes flipped in a LevelDB table file are found at open
(`juned status`, `juned run`, `juned export`: one plain line, exit 1; `juned audit`: exit 2,
incomplete), or, for an old block, when it is read by the running node's API (a 500, logged once)."""

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import plyvel
import pytest

from node.api.app import build_app
from node.api.context import ApiContext
from node.chain import ChainManager, Outcome
from node.datadir import STORE_NAME, NodeConfig, open_store, write_config
from node.errors import StoreDamaged
from node.mempool import AdmissionResult, Mempool
from node.store import LevelStore, schema
from protocol.documents.pending import PendingDocument
from protocol.encoding import encode
from tests.cli import run
from tests.protocol.chain_builder import Chain
from tests.protocol.rules.test_chain_simulation import Simulation

BLOCKS = 300


@pytest.fixture(scope="module")
def history() -> Chain:
    simulation = Simulation(5)
    while len(simulation.chain.blocks) < BLOCKS:
        simulation.step()
    return simulation.chain


def make_datadir(path: Path, chain: Chain) -> Path:
    """A closed data directory holding `chain`, compacted so that every block is in a table file."""
    genesis = chain.blocks[0]
    write_config(path, NodeConfig(currency=genesis.currency, genesis=genesis.hash))
    store = LevelStore.open(path / STORE_NAME)
    try:
        manager = ChainManager(store, genesis_hash=genesis.hash)
        for block in chain.blocks:
            assert manager.add_block(block).outcome is Outcome.APPLIED
    finally:
        store.close()
    db = plyvel.DB(str(path / STORE_NAME))
    db.compact_range()
    db.close()
    return path


def flip_block(datadir: Path, chain: Chain, number: int) -> Path:
    """Flip one byte inside block `number`'s signature in the table file that holds it (signatures
    are incompressible: snappy stores them as they are, so they can be found)."""
    signature = bytes(chain.blocks[number].signature)
    tables = sorted((datadir / STORE_NAME).glob("*.ldb"))
    for table in tables:
        data = bytearray(table.read_bytes())
        at = data.find(signature)
        if at >= 0:
            data[at + 20] ^= 0x55
            table.write_bytes(bytes(data))
            return table
    raise AssertionError(f"block {number}'s signature is in none of {tables}")


def test_a_sound_store_opens_and_its_check_is_cheap(tmp_path: Path, history: Chain) -> None:
    datadir = make_datadir(tmp_path / "node", history)
    _config, store = open_store(datadir)
    try:
        store.check_integrity()
    finally:
        store.close()


def test_a_damaged_recent_block_is_reported_by_every_command(tmp_path: Path, history: Chain) -> None:
    datadir = make_datadir(tmp_path / "node", history)
    flip_block(datadir, history, len(history.blocks) - 5)
    for command in (
        ("status", "--datadir", str(datadir)),
        ("export", "--datadir", str(datadir), str(tmp_path / "out.chain")),
        ("run", "--datadir", str(datadir), "--api", "", "--listen", "/ip4/127.0.0.1/tcp/0"),
        ("reindex", "--datadir", str(datadir)),
    ):
        result = run("juned", *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "is damaged" in lines[0], (command, result.stderr)
        assert "juned reindex --datadir" in lines[0]
    audited = run("juned", "audit", "--datadir", str(datadir))
    assert audited.returncode == 2, audited.stderr
    assert "Traceback" not in audited.stderr + audited.stdout
    assert "damaged" in audited.stderr + audited.stdout


def test_a_broken_head_pointer_is_damage_not_a_crash(tmp_path: Path, history: Chain) -> None:
    datadir = make_datadir(tmp_path / "node", history)
    store = LevelStore.open(datadir / STORE_NAME)
    head = history.blocks[-1]
    store.db.put(schema.HEAD, encode([head.number, history.blocks[-2].hash, head.state_digest]))
    store.close()
    with pytest.raises(StoreDamaged, match="head block"):
        open_store(datadir)
    result = run("juned", "status", "--datadir", str(datadir))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is damaged: the head block" in result.stderr


@pytest.fixture
def damaged_old_block(tmp_path: Path, history: Chain) -> Iterator[ApiContext]:
    """A node's parts over a store whose block 10 is damaged (beyond the check at open)."""
    datadir = make_datadir(tmp_path / "node", history)
    flip_block(datadir, history, 10)
    _config, store = open_store(datadir)  # the damage is too old to be seen at open
    pool = Mempool(store)

    async def submit(document: PendingDocument) -> AdmissionResult:
        return pool.add(document)

    try:
        yield ApiContext(store=store, chain=ChainManager(store), mempool=pool, submit=submit)
    finally:
        store.close()


async def test_a_damaged_block_read_while_running_is_a_500_logged_once(
    damaged_old_block: ApiContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    transport = httpx.ASGITransport(app=build_app(damaged_old_block))
    async with httpx.AsyncClient(transport=transport, base_url="http://june") as http:
        answers = [await http.get("/blocks/10") for _ in range(3)]
        healthy = await http.get(f"/blocks/{BLOCKS - 1}")
    assert [a.status_code for a in answers] == [500, 500, 500]
    assert "damaged" in answers[0].json()["error"]
    assert healthy.status_code == 200
    damage = [r for r in caplog.records if "is damaged" in r.getMessage()]
    assert len(damage) == 1 and "juned reindex" in damage[0].getMessage()
    assert damage[0].exc_info is None  # a plain line, not a traceback
