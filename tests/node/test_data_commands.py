"""`juned init, status, export, import, revert, reindex` on real data directories, and the crash
test: an import killed with SIGKILL at random moments always restarts on a whole, correct state."""

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from node.chainfile import ChainFileError, read_chain, write_chain
from node.datadir import open_store
from tests.cli import BIN, run
from tests.protocol.chain_builder import Chain
from tests.protocol.rules.test_chain_simulation import Simulation, WebOfTrustDied


@pytest.fixture(scope="module")
def history() -> Chain:
    """A long random history: long enough that an import takes a few seconds."""
    simulation = Simulation(12, calm=True)
    with contextlib.suppress(WebOfTrustDied):
        for _ in range(1200):
            simulation.step()
    return simulation.chain


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory: pytest.TempPathFactory, history: Chain) -> Path:
    path = tmp_path_factory.mktemp("chain") / "history.chain"
    write_chain(path, (block.to_bytes() for block in history.blocks))
    return path


def status(datadir: Path) -> dict[str, object]:
    result = run("juned", "status", "--datadir", str(datadir), "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_init_import_status_export_round_trip(tmp_path: Path, history: Chain, chain_file: Path) -> None:
    datadir = tmp_path / "node"
    assert run("juned", "init", "--datadir", str(datadir), "--genesis", str(chain_file)).returncode == 0
    imported = run("juned", "import", "--datadir", str(datadir), str(chain_file), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["blocks"]["applied"] == len(history.blocks) - 1
    head = status(datadir)["head"]
    assert head["number"] == history.blocks[-1].number  # type: ignore[index]
    assert head["state_digest"] == history.blocks[-1].state_digest.hex().upper()  # type: ignore[index]
    exported = tmp_path / "again.chain"
    assert run("juned", "export", "--datadir", str(datadir), str(exported)).returncode == 0
    assert exported.read_bytes() == chain_file.read_bytes()


def test_revert_and_reindex(tmp_path: Path, history: Chain, chain_file: Path) -> None:
    datadir = tmp_path / "node"
    run("juned", "init", "--datadir", str(datadir), "--genesis", str(chain_file))
    run("juned", "import", "--datadir", str(datadir), str(chain_file))
    assert run("juned", "revert", "--datadir", str(datadir), "5").returncode == 0
    head = status(datadir)["head"]
    assert head["state_digest"] == history.blocks[-6].state_digest.hex().upper()  # type: ignore[index]
    assert status(datadir)["fork_candidates"] == 5
    assert run("juned", "reindex", "--datadir", str(datadir)).returncode == 0
    assert status(datadir)["head"] == head
    refused = run("juned", "revert", "--datadir", str(datadir), "100000")
    assert refused.returncode == 1 and "block 0 cannot be reverted" in refused.stderr


def test_data_directory_of_another_currency_is_refused(tmp_path: Path, chain_file: Path) -> None:
    datadir = tmp_path / "node"
    run("juned", "init", "--datadir", str(datadir), "--genesis", str(chain_file))
    config = (datadir / "juned.toml").read_text()
    (datadir / "juned.toml").write_text(config.replace('currency = "june-test"', 'currency = "g1"'))
    result = run("juned", "status", "--datadir", str(datadir))
    assert result.returncode == 1 and "holds currency 'june-test', not 'g1'" in result.stderr
    assert run("juned", "init", "--datadir", str(datadir), "--dev", "5").returncode == 1


def test_an_import_stops_at_an_invalid_block_and_keeps_the_ones_before(
    tmp_path: Path, history: Chain
) -> None:
    """The operator learns which block broke a rule; the blocks before it are written (runs are
    validated in memory and written in batches: a refused block must not cost its batch)."""
    bad_number = len(history.blocks) // 2
    original = history.blocks[bad_number]
    issuer = next(k for k in history.keys.values() if k.public_key == original.issuer)
    bad = replace(original, members_count=original.members_count + 1)
    bad = bad.signed(issuer, bad.nonce)
    path = tmp_path / "tampered.chain"
    write_chain(
        path, (b.to_bytes() for b in [*history.blocks[:bad_number], bad, *history.blocks[bad_number + 1 :]])
    )
    datadir = tmp_path / "node"
    assert run("juned", "init", "--datadir", str(datadir), "--genesis", str(path)).returncode == 0
    refused = run("juned", "import", "--datadir", str(datadir), str(path))
    assert refused.returncode == 1
    assert f"block {bad_number} is invalid" in refused.stderr
    assert status(datadir)["head"]["number"] == bad_number - 1  # type: ignore[index]


def test_damaged_chain_files_are_refused(tmp_path: Path, chain_file: Path) -> None:
    raw = chain_file.read_bytes()
    for name, content in {
        "magic": b"NOTJUNE!" + raw[8:],
        "truncated": raw[:-10],
        "huge": raw[:8] + b"\xff" * 4,
    }.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ChainFileError):
            list(read_chain(path))


def test_import_killed_at_random_moments_restarts_on_a_whole_state(
    tmp_path: Path, history: Chain, chain_file: Path
) -> None:
    datadir = tmp_path / "node"
    assert run("juned", "init", "--datadir", str(datadir), "--genesis", str(chain_file)).returncode == 0
    digests = {block.number: block.state_digest for block in history.blocks}
    rng = random.Random(2026)
    heads = []
    for _attempt in range(8):
        child = subprocess.Popen(
            [str(BIN / "juned"), "import", "--datadir", str(datadir), str(chain_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 0.9))  # a random moment of the import (not a wait for a condition)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        _config, store = open_store(datadir)  # runs the integrity check
        try:
            pointer = store.head_pointer()
            assert pointer is not None
            number, block_hash, digest = pointer
            assert block_hash == history.blocks[number].hash
            assert digest == digests[number]
            heads.append(number)
        finally:
            store.close()
    finished = run("juned", "import", "--datadir", str(datadir), str(chain_file))
    assert finished.returncode == 0, finished.stderr
    assert status(datadir)["head"]["number"] == history.blocks[-1].number  # type: ignore[index]
    assert heads == sorted(heads)  # nothing acknowledged was ever lost
    print("heads after each kill:", heads)
