"""`june keys show`, `generate`, `export` and `import`, end to end through the installed `june` script."""

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from protocol.keyfile import seal
from protocol.keys import Keypair, pubkey_to_base58
from tests.cli import run
from wallet.keyformats import pubsec_text


def test_show_scrypt_prints_key_with_checksum(vectors: dict[str, Any]) -> None:
    case = vectors["scrypt_keys"][0]
    result = run("june", "keys", "show", "--scrypt", stdin=f"{case['salt']}\n{case['password']}\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{case['pubkey']}:{case['checksum']}"


def test_show_scrypt_json(vectors: dict[str, Any]) -> None:
    case = vectors["scrypt_keys"][0]
    for args in (("keys", "show", "--scrypt", "--json"), ("--json", "keys", "show", "--scrypt")):
        result = run("june", *args, stdin=f"{case['salt']}\n{case['password']}\n")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"pubkey": case["pubkey"], "checksum": case["checksum"]}


def test_show_scrypt_refuses_missing_password() -> None:
    result = run("june", "keys", "show", "--scrypt", stdin="only-the-identifier\n")
    assert result.returncode == 2
    assert "expected the password on a line of standard input" in result.stderr
    assert result.stdout == ""


def test_secrets_are_never_options() -> None:
    result = run("june", "keys", "show", "--scrypt", "--password", "abc")
    assert result.returncode == 2
    assert "No such option" in result.stderr


def test_generate_then_show_then_refuse_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "wallet" / "key.json"
    made = run("june", "keys", "generate", "--file", str(path), "--json", stdin="a long passphrase\n")
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["file"] == str(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    shown = run("june", "keys", "show", "--file", str(path), "--json", stdin="a long passphrase\n")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"pubkey": created["pubkey"], "checksum": created["checksum"]}

    before = path.read_bytes()
    again = run("june", "keys", "generate", "--file", str(path), stdin="another\n")
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert path.read_bytes() == before


def test_wrong_passphrase_fails_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    assert run("june", "keys", "generate", "--file", str(path), stdin="right passphrase\n").returncode == 0
    out = tmp_path / "out.wif"
    result = run("june", "--key-file", str(path), "keys", "export", str(out), stdin="wrong passphrase\n")
    assert result.returncode == 1
    assert "wrong passphrase" in result.stderr
    assert not out.exists()


def test_default_key_file_location(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert run("june", "keys", "generate", stdin="a long passphrase\n", env=env).returncode == 0
    assert (tmp_path / "june" / "key.json").is_file()
    missing = run(
        "june", "keys", "show", stdin="a long passphrase\n", env={"XDG_CONFIG_HOME": str(tmp_path / "none")}
    )
    assert missing.returncode == 1
    assert "june keys generate" in missing.stderr


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    result = run("june", "keys", "generate", "--file", str(tmp_path / "k.json"), stdin="\n")
    assert result.returncode == 2
    assert "passphrase is empty" in result.stderr
    assert not (tmp_path / "k.json").exists()


def test_pubsec_export_then_import_keeps_the_key(tmp_path: Path) -> None:
    pubsec = tmp_path / "alice.pubsec"
    exported = run("june", "--scrypt", "keys", "export", str(pubsec), "--json", stdin="alice\nalice\n")
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(os.stat(pubsec).st_mode) == 0o600
    assert pubsec.read_text().startswith("Type: PubSec\nVersion: 1\npub: ")
    again = run("june", "--scrypt", "keys", "export", str(pubsec), stdin="alice\nalice\n")
    assert again.returncode == 2 and "never overwrites" in again.stderr
    keyfile = tmp_path / "key.json"
    imported = run(
        "june", "keys", "import", str(pubsec), "--file", str(keyfile), "--json", stdin="a long passphrase\n"
    )
    assert imported.returncode == 0, imported.stderr
    shown = run("june", "keys", "show", "--file", str(keyfile), "--json", stdin="a long passphrase\n")
    assert json.loads(shown.stdout)["pubkey"] == json.loads(exported.stdout)["pubkey"]


def test_import_refuses_a_pubsec_whose_keys_do_not_match(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pubsec"
    bad.write_text(
        "Type: PubSec\nVersion: 1\npub: 11111111111111111111111111111111111111111111\nsec: " + "2" * 88 + "\n"
    )
    result = run(
        "june", "keys", "import", str(bad), "--file", str(tmp_path / "k.json"), stdin="a long passphrase\n"
    )
    assert result.returncode == 2
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("command", ["generate", "import"])
def test_a_new_key_file_needs_a_passphrase_of_eight_characters(tmp_path: Path, command: str) -> None:
    pubsec = tmp_path / "alice.pubsec"
    pubsec.write_text(pubsec_text(Keypair(bytes(32))))
    args = ("import", str(pubsec)) if command == "import" else ("generate",)
    path = tmp_path / "key.json"
    refused = run("june", "keys", *args, "--file", str(path), stdin="1234567\n")
    assert refused.returncode == 2
    assert "the passphrase has 7 characters; a new key file needs at least 8" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not path.exists()
    made = run("june", "keys", *args, "--file", str(path), stdin="12345678\n")
    assert made.returncode == 0, made.stderr
    assert run("june", "keys", "show", "--file", str(path), stdin="12345678\n").returncode == 0


def test_an_existing_key_file_with_a_short_passphrase_still_opens(tmp_path: Path) -> None:
    keypair = Keypair(bytes(32))
    path = tmp_path / "old.json"
    path.write_text(seal(keypair, "abc", salt=os.urandom(16), nonce=os.urandom(24), n=2**10))
    seed = tmp_path / "seed"
    opened = run("june", "--key-file", str(path), "keys", "export", str(seed), "--format", "seed", stdin="abc\n")
    assert opened.returncode == 0, opened.stderr
    assert seed.read_text().strip() == keypair.seed.hex()


def _hostile_scrypt_file() -> str:
    text = seal(Keypair(bytes(32)), "a long passphrase", salt=bytes(16), nonce=bytes(24), n=2**10)
    document = json.loads(text)
    document["kdf"].update(n=2**15, p=2**20)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[" * 4000, "nested deeper than 4 levels"),
        (_hostile_scrypt_file(), "scrypt parameter p=1048576 is not an integer in [1, 16]: refused"),
        ("x" * 100_000, "not a key file: over 4096 characters"),
    ],
)
def test_a_hostile_key_file_is_refused_in_plain_words(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(content)
    started = time.monotonic()
    result = run("june", "keys", "show", "--file", str(path), stdin="a long passphrase\n")
    assert time.monotonic() - started < 10  # a process start, never the hours of scrypt
    assert result.returncode == 1
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def test_import_refuses_an_oversized_pubsec_file(tmp_path: Path) -> None:
    big = tmp_path / "big.pubsec"
    big.write_text("Type: PubSec\nVersion: 1\nsec: " + "2" * 100_000 + "\n")
    result = run(
        "june", "keys", "import", str(big), "--file", str(tmp_path / "k.json"), stdin="a long passphrase\n"
    )
    assert result.returncode == 2
    assert "is not a key file: larger than 4096 bytes" in result.stderr
    assert not (tmp_path / "k.json").exists()
