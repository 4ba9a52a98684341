"""`juned run --key-file`: a key in any Ğ1 format, its passphrase from a private file, systemd
credentials, a terminal or one line of stdin; and the node saying whether it forges."""

import io
import os
import re
from pathlib import Path

import pytest
import trio

from node.commands.data import dev_block_zero
from node.passphrase import (
    CREDENTIAL_NAME,
    ForgingKeyError,
    load_forging_key,
    passphrase_source,
    read_passphrase_file,
)
from protocol.genesis import dev_keypair
from protocol.keyfile import seal
from protocol.keyformats import dewif_text, ewif_text, pubsec_text, seed_hex_text, wif_text
from protocol.keys import Keypair
from tests.cli import run
from tests.node.hostile import victim
from tests.node.test_p2p_sync import datadir

ALICE = dev_keypair("alice")


class Terminal(io.StringIO):
    """A standard input that is a terminal."""

    def isatty(self) -> bool:
        return True


def private(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def never() -> str:
    raise AssertionError("an unencrypted key asked for a passphrase")


# ------------------------------------------------------------------------------ passphrase sources


def test_passphrase_file_gives_its_first_line_without_line_ending(tmp_path: Path) -> None:
    assert read_passphrase_file(private(tmp_path / "p", "two words\r\nnext line\n")) == "two words"
    assert read_passphrase_file(private(tmp_path / "q", "no newline")) == "no newline"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_passphrase_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = private(tmp_path / "p", "secret\n")
    path.chmod(mode)
    with pytest.raises(ForgingKeyError, match=f"permissions {mode:04o} are too open.*chmod 600"):
        read_passphrase_file(path)


def test_missing_passphrase_file_is_one_plain_line(tmp_path: Path) -> None:
    with pytest.raises(ForgingKeyError, match="no such file"):
        read_passphrase_file(tmp_path / "absent")


def test_sources_in_order_file_then_credentials_then_terminal_then_stdin(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / CREDENTIAL_NAME).write_text("from systemd\n")  # systemd's own mode: not checked
    (credentials / CREDENTIAL_NAME).chmod(0o644)
    env = {"CREDENTIALS_DIRECTORY": str(credentials)}
    given = private(tmp_path / "p", "from the file\n")
    stdin = io.StringIO("from stdin\n")
    assert passphrase_source(key, given, environ=env, stdin=stdin)() == "from the file"
    assert passphrase_source(key, None, environ=env, stdin=stdin)() == "from systemd"
    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return "typed"

    assert passphrase_source(key, None, environ={}, stdin=Terminal(), prompt=prompt)() == "typed"
    assert prompts == [f"Passphrase of {key}: "]
    assert passphrase_source(key, None, environ={}, stdin=stdin, prompt=prompt)() == "from stdin"
    # a credentials directory without our credential: the next source
    (credentials / CREDENTIAL_NAME).unlink()
    assert passphrase_source(key, None, environ=env, stdin=io.StringIO("line\n"))() == "line"


def test_closed_stdin_is_no_passphrase(tmp_path: Path) -> None:
    with pytest.raises(ForgingKeyError, match="standard input is closed"):
        passphrase_source(tmp_path / "k", None, environ={}, stdin=io.StringIO(""))()


# -------------------------------------------------------------------------------------- key formats


@pytest.mark.parametrize(
    "text",
    [pubsec_text(ALICE), wif_text(ALICE), seed_hex_text(ALICE)],
    ids=["pubsec", "wif", "seed"],
)
def test_unencrypted_formats_need_no_passphrase(tmp_path: Path, text: str) -> None:
    assert load_forging_key(private(tmp_path / "key", text), never).public_key == ALICE.public_key


@pytest.mark.parametrize("kind", ["june", "ewif", "dewif"])
def test_encrypted_formats_open_with_the_passphrase(tmp_path: Path, kind: str) -> None:
    text = {
        "june": lambda: seal(ALICE, "pass", salt=os.urandom(16), nonce=os.urandom(24), n=2**10),
        "ewif": lambda: ewif_text(ALICE, "pass"),
        "dewif": lambda: dewif_text(ALICE, "pass", nonce=os.urandom(12), log_n=10),
    }[kind]()
    path = private(tmp_path / "key", text)
    assert load_forging_key(path, lambda: "pass").public_key == ALICE.public_key
    with pytest.raises(ForgingKeyError, match=f"key file {path}: wrong passphrase"):
        load_forging_key(path, lambda: "wrong")


def test_not_a_key_and_unreadable_are_plain(tmp_path: Path) -> None:
    with pytest.raises(ForgingKeyError, match="unknown key format"):
        load_forging_key(private(tmp_path / "notes", "hello world\n"), never)
    with pytest.raises(ForgingKeyError, match="no such file"):
        load_forging_key(tmp_path / "absent", never)
    with pytest.raises(ForgingKeyError, match="cannot read it"):
        load_forging_key(tmp_path, never)  # a directory


# ------------------------------------------------------------------------------------ juned run


def test_wrong_passphrase_on_stdin_is_one_line_without_getpass_warning(tmp_path: Path) -> None:
    path = datadir(tmp_path / "node", [dev_block_zero(5, 1_700_000_000)])
    key = private(
        tmp_path / "alice.json", seal(ALICE, "right", salt=os.urandom(16), nonce=os.urandom(24), n=2**10)
    )
    result = run("juned", "run", "--datadir", str(path), "--key-file", str(key), stdin="wrong\n")
    assert result.returncode == 1
    assert "GetPassWarning" not in result.stderr
    assert re.search(rf"Error: key file {re.escape(str(key))}: wrong passphrase", result.stderr)
    assert "Traceback" not in result.stderr


def test_open_passphrase_file_stops_juned_with_ssh_like_message(tmp_path: Path) -> None:
    path = datadir(tmp_path / "node", [dev_block_zero(5, 1_700_000_000)])
    key = private(
        tmp_path / "alice.json", seal(ALICE, "right", salt=os.urandom(16), nonce=os.urandom(24), n=2**10)
    )
    given = private(tmp_path / "passphrase", "right\n")
    given.chmod(0o644)
    result = run(
        "juned", "run", "--datadir", str(path), "--key-file", str(key), "--passphrase-file", str(given)
    )
    assert result.returncode == 1
    assert "permissions 0644 are too open" in result.stderr


async def said(log: Path, pattern: str, after: int, timeout: float = 30) -> str:
    """The first line of `log` past its first `after` bytes matching `pattern`, waited for."""
    with trio.fail_after(timeout):
        while not (found := re.search(f".*{pattern}.*", log.read_bytes()[after:].decode(errors="replace"))):
            await trio.sleep(0.05)
    return found.group(0)


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def test_a_founder_s_pubsec_forges_and_an_outsider_s_key_does_not(tmp_path: Path) -> None:
    path = datadir(tmp_path / "node", [dev_block_zero(5, 1_700_000_000)])
    pubsec = private(tmp_path / "alice.pubsec", pubsec_text(ALICE))
    given = private(tmp_path / "passphrase", "unused\n")
    log = tmp_path / "node.log"
    async with victim(path, "--key-file", str(pubsec), "--passphrase-file", str(given)) as node:
        assert "forging as alice (" in await said(node.log, "forging as", 0)
    outsider = Keypair.from_scrypt("zoe", "zoe")
    seed = private(tmp_path / "zoe.seed", seed_hex_text(outsider))
    start = size(log)
    async with victim(path, "--key-file", str(seed)) as node:
        line = await said(node.log, "not forging", start)
        assert re.search(r"WARNING not forging: \S+ is not a member", line)
    start = size(log)
    async with victim(path) as node:
        assert "not forging: no key given" in await said(node.log, "not forging", start)
