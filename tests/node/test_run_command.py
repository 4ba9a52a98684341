"""`juned run` refuses what it cannot run with a plain message and a non-zero exit."""

import os
from pathlib import Path

from click.testing import CliRunner

from node.cli import juned
from node.commands.data import dev_block_zero
from protocol.genesis import dev_keypair
from protocol.keyfile import seal
from tests.node.test_p2p_sync import datadir


def test_run_needs_a_data_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(juned, ["run", "--datadir", str(tmp_path / "nothing")])
    assert result.exit_code != 0
    assert "juned init" in result.output


def test_run_refuses_a_wrong_passphrase(tmp_path: Path) -> None:
    path = datadir(tmp_path / "node", [dev_block_zero(5, 1_700_000_000)])
    key_file = tmp_path / "alice.json"
    key_file.write_text(seal(dev_keypair("alice"), "right", salt=os.urandom(16), nonce=os.urandom(24)))
    result = CliRunner().invoke(
        juned, ["run", "--datadir", str(path), "--key-file", str(key_file)], input="wrong\n"
    )
    assert result.exit_code != 0
    assert str(key_file) in result.output
