"""`june keys show`, `checksum`, `generate`, `export` and `import` in every Ğ1 key format, end to end
through the installed `june` script."""

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from protocol.keyfile import seal
from protocol.keyformats import dewif_currency, dewif_text, ewif_text, pubsec_text, seed_hex_text, wif_text
from protocol.keys import Keypair, ScryptParams, pubkey_display, pubkey_to_base58
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
    opened = run(
        "june", "--key-file", str(path), "keys", "export", str(seed), "--format", "seed", stdin="abc\n"
    )
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


# ------------------------------------------------------------------ every Ğ1 key format (keyformats)

ALICE = Keypair.from_scrypt("alice", "password")
ALICE_DISPLAY = pubkey_display(ALICE.public_key)
CLEAR_FORMATS = ["pubsec", "wif", "seed"]
ENCRYPTED_FORMATS = ["ewif", "dewif"]


def _alice_file(tmp_path: Path, kind: str) -> Path:
    """Alice's key in `kind`, written as another Ğ1 client would; encrypted ones under 'password'."""
    texts = {
        "pubsec": lambda: pubsec_text(ALICE),
        "wif": lambda: wif_text(ALICE),
        "seed": lambda: seed_hex_text(ALICE),
        "ewif": lambda: ewif_text(ALICE, "password"),
        "dewif": lambda: dewif_text(ALICE, "password", nonce=os.urandom(12), log_n=10),
        "june": lambda: seal(ALICE, "password", salt=os.urandom(16), nonce=os.urandom(24), n=2**10),
    }
    path = tmp_path / f"alice.{kind}"
    path.write_text(texts[kind]())
    return path


@pytest.mark.parametrize("kind", CLEAR_FORMATS + ENCRYPTED_FORMATS)
def test_export_in_each_format_then_import_gives_the_same_key(tmp_path: Path, kind: str) -> None:
    exported = tmp_path / f"out.{kind}"
    secrets = "alice\npassword\n" + ("a new passphrase\n" if kind in ENCRYPTED_FORMATS else "")
    made = run("june", "--scrypt", "keys", "export", str(exported), "--format", kind, "--json", stdin=secrets)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {
        "pubkey": pubkey_to_base58(ALICE.public_key),
        "file": str(exported),
        "format": kind,
        "encrypted": kind in ENCRYPTED_FORMATS,
    }
    assert stat.S_IMODE(os.stat(exported).st_mode) == 0o600
    assert ALICE.seed.hex() not in exported.read_text() or kind == "seed"

    keyfile = tmp_path / "key.json"
    secrets = ("a new passphrase\n" if kind in ENCRYPTED_FORMATS else "") + "the key file passphrase\n"
    imported = run("june", "keys", "import", str(exported), "--file", str(keyfile), "--json", stdin=secrets)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["format"] == kind
    shown = run("june", "--key-file", str(keyfile), "keys", "show")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == ALICE_DISPLAY


@pytest.mark.parametrize("kind", CLEAR_FORMATS)
def test_a_clear_export_warns_that_anyone_can_spend(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    made = run("june", "--scrypt", "keys", "export", str(out), "--format", kind, stdin="alice\npassword\n")
    assert made.returncode == 0, made.stderr
    assert "anyone who reads it can spend your money" in made.stdout
    again = run("june", "--scrypt", "keys", "export", str(out), "--format", kind, stdin="alice\npassword\n")
    assert again.returncode == 2 and "never overwrites" in again.stderr


def test_export_dewif_names_its_currency(tmp_path: Path) -> None:
    out = tmp_path / "test.dewif"
    made = run(
        "june", "--scrypt", "keys", "export", str(out), "--format", "dewif", "--currency", "g1-test",
        stdin="alice\npassword\na new passphrase\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert dewif_currency(out.read_text()) == "g1-test"
    short = run(
        "june", "--scrypt", "keys", "export", str(tmp_path / "x.ewif"), "--format", "ewif",
        stdin="alice\npassword\nshort\n",
    )  # fmt: skip
    assert short.returncode == 2 and "at least 8" in short.stderr
    assert not (tmp_path / "x.ewif").exists()


@pytest.mark.parametrize("kind", [*CLEAR_FORMATS, "june"])
def test_key_file_in_a_clear_format_shows_without_passphrase(tmp_path: Path, kind: str) -> None:
    path = _alice_file(tmp_path, kind)
    shown = run("june", "--key-file", str(path), "keys", "show", "--json", stdin="")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["pubkey"] == pubkey_to_base58(ALICE.public_key)
    local = run("june", "keys", "show", "--file", str(path), stdin="")
    assert local.stdout.strip() == ALICE_DISPLAY


@pytest.mark.parametrize("kind", ENCRYPTED_FORMATS)
def test_key_file_in_an_encrypted_format_asks_the_passphrase(tmp_path: Path, kind: str) -> None:
    path = _alice_file(tmp_path, kind)
    unasked = run("june", "--key-file", str(path), "keys", "show", stdin="")
    assert unasked.returncode == 2
    assert "expected the passphrase on a line of standard input" in unasked.stderr
    shown = run("june", "--key-file", str(path), "keys", "show", stdin="password\n")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == ALICE_DISPLAY
    wrong = run("june", "--key-file", str(path), "keys", "show", stdin="not the password\n")
    assert wrong.returncode == 1
    assert f"{path}: wrong passphrase for this {kind.upper()}" in wrong.stderr


@pytest.mark.parametrize("kind", [*CLEAR_FORMATS, *ENCRYPTED_FORMATS, "june"])
def test_key_file_in_any_format_signs(tmp_path: Path, kind: str) -> None:
    """The account opened for signing (here, to export it) is the same key, whatever the format."""
    path = _alice_file(tmp_path, kind)
    out = tmp_path / "out.pubsec"
    secrets = "password\n" if kind in [*ENCRYPTED_FORMATS, "june"] else ""
    made = run("june", "--key-file", str(path), "keys", "export", str(out), stdin=secrets)
    assert made.returncode == 0, made.stderr
    assert out.read_text() == pubsec_text(ALICE)


def test_a_damaged_key_file_is_refused_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.wif"
    data = wif_text(ALICE).strip()
    path.write_text(data[:-1] + ("2" if data[-1] != "2" else "3"))
    shown = run("june", "--key-file", str(path), "keys", "show", stdin="")
    assert shown.returncode == 1
    assert f"{path}: wrong checksum: the WIF is mistyped or damaged" in shown.stderr
    imported = run(
        "june", "keys", "import", str(path), "--file", str(tmp_path / "k.json"), stdin="x" * 8 + "\n"
    )
    assert imported.returncode == 2 and "wrong checksum" in imported.stderr
    assert not (tmp_path / "k.json").exists()
    unknown = tmp_path / "notes.txt"
    unknown.write_text("my shopping list\n")
    result = run("june", "--key-file", str(unknown), "keys", "show", stdin="")
    assert result.returncode == 1 and "unknown key format" in result.stderr


def test_show_honours_the_global_account_options(vectors: dict[str, Any], tmp_path: Path) -> None:
    case = vectors["scrypt_keys"][0]
    creds = f"{case['salt']}\n{case['password']}\n"
    shown = run("june", "--scrypt", "keys", "show", stdin=creds)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"{case['pubkey']}:{case['checksum']}"
    params = ScryptParams(16384, 8, 8)
    other = Keypair.from_scrypt(case["salt"], case["password"], params)
    shown = run("june", "--scrypt-params", "16384,8,8", "keys", "show", stdin=creds)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == pubkey_display(other.public_key)
    both = run("june", "--key-file", str(_alice_file(tmp_path, "wif")), "keys", "show", "--scrypt")
    assert both.returncode == 2 and "not both" in both.stderr


def test_checksum_gives_and_verifies() -> None:
    key = pubkey_to_base58(ALICE.public_key)
    given = run("june", "keys", "checksum", key)
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip() == ALICE_DISPLAY
    good = run("june", "keys", "checksum", ALICE_DISPLAY)
    assert good.returncode == 0, good.stderr
    assert "checksum OK" in good.stdout
    as_json = run("june", "keys", "checksum", ALICE_DISPLAY, "--json")
    assert json.loads(as_json.stdout) == {"pubkey": key, "checksum": ALICE_DISPLAY[-3:], "valid": True}


def test_checksum_mismatch_fails() -> None:
    key = pubkey_to_base58(ALICE.public_key)
    wrong = "AAA" if not ALICE_DISPLAY.endswith("AAA") else "BBB"
    bad = run("june", "keys", "checksum", f"{key}:{wrong}")
    assert bad.returncode == 1
    assert "checksum mismatch" in bad.stderr and bad.stdout == ""
    as_json = run("june", "--json", "keys", "checksum", f"{key}:{wrong}")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"pubkey": key, "checksum": ALICE_DISPLAY[-3:], "valid": False}
    not_a_key = run("june", "keys", "checksum", "abc")
    assert not_a_key.returncode == 2 and "40 to 44 Base58 characters" in not_a_key.stderr
