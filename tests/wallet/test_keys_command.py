"""`june keys show` and `june keys generate`, end to end through the installed `june` script."""

import json
import os
import stat
from pathlib import Path
from typing import Any

from tests.cli import run


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
    assert run("june", "keys", "generate", "--file", str(path), stdin="right\n").returncode == 0
    result = run("june", "keys", "show", "--file", str(path), stdin="wrong\n")
    assert result.returncode == 1
    assert "wrong passphrase" in result.stderr


def test_default_key_file_location(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert run("june", "keys", "generate", stdin="pass\n", env=env).returncode == 0
    assert (tmp_path / "june" / "key.json").is_file()
    missing = run("june", "keys", "show", stdin="pass\n", env={"XDG_CONFIG_HOME": str(tmp_path / "none")})
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
        "june", "keys", "import", str(pubsec), "--file", str(keyfile), "--json", stdin="pass\npass\n"
    )
    assert imported.returncode == 0, imported.stderr
    shown = run("june", "keys", "show", "--file", str(keyfile), "--json", stdin="pass\n")
    assert json.loads(shown.stdout)["pubkey"] == json.loads(exported.stdout)["pubkey"]


def test_import_refuses_a_pubsec_whose_keys_do_not_match(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pubsec"
    bad.write_text(
        "Type: PubSec\nVersion: 1\npub: 11111111111111111111111111111111111111111111\nsec: " + "2" * 88 + "\n"
    )
    result = run("june", "keys", "import", str(bad), "--file", str(tmp_path / "k.json"), stdin="p\np\n")
    assert result.returncode == 2
    assert not (tmp_path / "k.json").exists()
