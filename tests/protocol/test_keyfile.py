"""Encrypted key files: seal and open, wrong passphrase, damage and foreign files."""

import json

import pytest

from protocol.keyfile import KeyfileError, open_keyfile, public_key_of, seal
from protocol.keys import Keypair, pubkey_display

SALT = bytes(range(16))
NONCE = bytes(range(24))


def sealed(keypair: Keypair, passphrase: str = "correct horse") -> str:
    return seal(keypair, passphrase, salt=SALT, nonce=NONCE, n=2**10)


def test_seal_and_open(keys: list[Keypair]) -> None:
    text = sealed(keys[0])
    assert open_keyfile(text, "correct horse").seed == keys[0].seed
    assert public_key_of(text) == pubkey_display(keys[0].public_key)
    assert keys[0].seed.hex() not in text


def test_wrong_passphrase(keys: list[Keypair]) -> None:
    with pytest.raises(KeyfileError, match="wrong passphrase"):
        open_keyfile(sealed(keys[0]), "wrong horse")


def test_damaged_ciphertext(keys: list[Keypair]) -> None:
    document = json.loads(sealed(keys[0]))
    document["ciphertext"] = document["ciphertext"][:-4] + "AAAA"
    with pytest.raises(KeyfileError, match="wrong passphrase, or the key file is damaged"):
        open_keyfile(json.dumps(document), "correct horse")


def test_swapped_public_key_is_detected(keys: list[Keypair]) -> None:
    document = json.loads(sealed(keys[0]))
    document["pubkey"] = pubkey_display(keys[1].public_key)
    with pytest.raises(KeyfileError, match="does not match"):
        open_keyfile(json.dumps(document), "correct horse")


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"june_keyfile": 2}', '{"june_keyfile": 1}', "x" * 5000],
)
def test_foreign_files_are_refused(text: str) -> None:
    with pytest.raises(KeyfileError):
        open_keyfile(text, "anything")


def test_absurd_scrypt_parameters_are_refused(keys: list[Keypair]) -> None:
    document = json.loads(sealed(keys[0]))
    document["kdf"]["n"] = 2**40
    with pytest.raises(KeyfileError, match="scrypt parameter n"):
        open_keyfile(json.dumps(document), "correct horse")
