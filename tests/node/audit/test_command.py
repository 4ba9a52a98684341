"""`juned audit` as an operator runs it: sources, exit status, the human summary and the JSON."""

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import plyvel
import pytest
from click.testing import CliRunner, Result

from node.commands.audit import EXIT_INCOMPLETE, EXIT_INVALID, EXIT_VALID, audit
from node.datadir import STORE_NAME
from node.store import LevelStore, schema
from protocol.crypto import hash_hex
from protocol.encoding import encode
from tests.cli import run
from tests.node.audit.helpers import fork, write
from tests.protocol.chain_builder import Chain


def juned_audit(*args: str) -> Result:
    return CliRunner().invoke(audit, list(args), catch_exceptions=False)


def report_of(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory: pytest.TempPathFactory, history: Chain) -> Path:
    return write(tmp_path_factory.mktemp("audit") / "history.chain", history.blocks)


def test_a_valid_chain_file(chain_file: Path, history: Chain) -> None:
    result = juned_audit("--chain", str(chain_file), "--json", "--workers", "2")
    assert result.exit_code == EXIT_VALID, result.output
    report = report_of(result)
    assert report["verdict"] == "valid" and report["first_violation"] is None
    assert report["blocks"] == {"total": 29, "read": 29, "replayed": 29}
    assert report["head"]["state_digest"] == hash_hex(history.blocks[-1].state_digest)
    assert report["members"]["now"] == 5
    assert report["money"]["dividend"] == 1000 and len(report["money"]["dividends"]) == 4
    assert report["documents"]["transactions"] == 2
    human = juned_audit("--chain", str(chain_file), "--workers", "0")
    assert human.exit_code == EXIT_VALID
    assert "VALID: every signature and every rule of blocks 0–28 hold" in human.stdout
    assert "5 now, 5 at most" in human.stdout


def test_a_tampered_chain_names_the_rule_and_the_block(tmp_path: Path, history: Chain) -> None:
    chain = fork(history)
    bad = chain.block(dividend=7)
    path = write(tmp_path / "bad.chain", [*chain.blocks, bad])
    result = juned_audit("--chain", str(path), "--json", "--workers", "1")
    assert result.exit_code == EXIT_INVALID
    first = report_of(result)["first_violation"]
    assert (first["height"], first["code"]) == (29, "BR_G58")
    human = juned_audit("--chain", str(path), "--workers", "1")
    assert "INVALID: block 29 breaks rule BR_G58: dividend is 7, expected None" in human.stdout
    assert "--keep-going" in human.stdout


def test_a_truncated_chain_file_is_reported_incomplete(tmp_path: Path, chain_file: Path) -> None:
    data = chain_file.read_bytes()
    path = tmp_path / "truncated.chain"
    path.write_bytes(data[: len(data) - 100])
    result = juned_audit("--chain", str(path), "--json", "--workers", "1")
    assert result.exit_code == EXIT_INCOMPLETE
    report = report_of(result)
    assert report["verdict"] == "incomplete"
    assert "block 28 is truncated" in report["source_error"]
    assert report["blocks"]["replayed"] == 28 and report["violations"] == []
    human = juned_audit("--chain", str(path), "--workers", "1")
    assert "INCOMPLETE" in human.stdout and "Blocks 0–27 were read and checked" in human.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"garbage, not a chain", "is not a June chain file"),
        (b"JUNECHN1" + (10**8).to_bytes(4, "big") + b"\x00" * 10, "over the 1,000,000-byte cap"),
    ],
)
def test_garbage_gives_a_clear_error_and_a_non_zero_exit(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "garbage.chain"
    path.write_bytes(content)
    result = juned_audit("--chain", str(path), "--workers", "0")
    assert result.exit_code == EXIT_INCOMPLETE
    assert message in result.output


def test_missing_source_or_two_sources(tmp_path: Path) -> None:
    missing = juned_audit("--chain", str(tmp_path / "nowhere.chain"))
    assert missing.exit_code == EXIT_INCOMPLETE and "cannot read" in missing.output
    assert juned_audit().exit_code == 2
    assert juned_audit("--chain", "a", "--datadir", "b").exit_code == 2
    not_a_node = juned_audit("--datadir", str(tmp_path))
    assert not_a_node.exit_code == EXIT_INCOMPLETE and "juned init" in not_a_node.output


def _contents(store_path: Path) -> dict[bytes, bytes]:
    db = plyvel.DB(str(store_path), create_if_missing=False)
    try:
        return dict(db.iterator())
    finally:
        db.close()


@pytest.fixture(scope="module")
def node_datadir(tmp_path_factory: pytest.TempPathFactory, chain_file: Path) -> Path:
    """A data directory made by `juned init` and `juned import` of the honest history."""
    datadir = tmp_path_factory.mktemp("audit") / "node"
    assert run("juned", "init", "--datadir", str(datadir), "--genesis", str(chain_file)).returncode == 0
    assert run("juned", "import", "--datadir", str(datadir), str(chain_file)).returncode == 0
    return datadir


def test_a_data_directory_is_audited_without_being_written(node_datadir: Path, history: Chain) -> None:
    datadir = node_datadir
    before = _contents(datadir / STORE_NAME)
    result = juned_audit("--datadir", str(datadir), "--json", "--workers", "1")
    assert result.exit_code == EXIT_VALID, result.output
    report = report_of(result)
    assert report["node"]["head_height"] == 28
    assert report["node"]["head_state_digest"] == report["head"]["state_digest"]
    assert report["node"]["genesis"] == report["genesis"] == hash_hex(history.blocks[0].hash)
    assert _contents(datadir / STORE_NAME) == before
    # A running node holds LevelDB's lock: the auditor says so instead of failing obscurely.
    store = LevelStore.open(datadir / STORE_NAME, create=False)
    try:
        locked = juned_audit("--datadir", str(datadir), "--workers", "0")
    finally:
        store.close()
    assert locked.exit_code == EXIT_INCOMPLETE and "stop the node" in locked.output


def test_a_node_whose_head_pointer_disagrees_with_its_blocks(tmp_path: Path, node_datadir: Path) -> None:
    """The head pointer is rewritten with a wrong state digest: the replay does not agree."""
    datadir = tmp_path / "node"
    shutil.copytree(node_datadir, datadir)
    store = LevelStore.open(datadir / STORE_NAME, create=False)
    try:
        pointer = store.head_pointer()
        assert pointer is not None
        number, block_hash, _digest = pointer
        store.db.put(schema.HEAD, encode([number, block_hash, bytes(32)]))
    finally:
        store.close()
    result = juned_audit("--datadir", str(datadir), "--json", "--workers", "0")
    assert result.exit_code == EXIT_INVALID
    assert report_of(result)["first_violation"]["code"] == "NODE_HEAD"


def test_keep_going_lists_every_violation(tmp_path: Path, history: Chain) -> None:
    """Block 29 writes a wrong UD (the state after it is unknown), block 30 has a forged signature."""
    chain = fork(history)
    bad = chain.block(dividend=7)
    chain.write()
    chain.write()
    last = chain.blocks[30]
    forged = replace(last, signature=chain.keys["bob"].sign(last.signing_message()))
    path = write(tmp_path / "bad.chain", [*chain.blocks[:29], bad, forged])
    result = juned_audit("--chain", str(path), "--keep-going", "--workers", "1")
    assert result.exit_code == EXIT_INVALID
    assert "INVALID: block 29 breaks rule BR_G58" in result.stdout
    assert "2 violations" in result.stdout and "checkBlockSignature" in result.stdout
    assert "From block 29 on the state is unknown" in result.stdout
    report = report_of(juned_audit("--chain", str(path), "--keep-going", "--json", "--workers", "0"))
    assert [(v["height"], v["code"]) for v in report["violations"]] == [
        (29, "BR_G58"),
        (30, "checkBlockSignature"),
    ]
    assert report["rules_stopped_at"] == 29 and report["blocks"]["read"] == 31
