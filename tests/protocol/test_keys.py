"""Keys: the Ğ1 vectors of ../shared/vectors, checksums, parsing and signatures."""

from typing import Any

import pytest

from protocol.crypto import signing_message, verify
from protocol.errors import InvalidKey
from protocol.keys import (
    Keypair,
    checksum,
    derive_scrypt_seed,
    parse_pubkey,
    pubkey_display,
    pubkey_to_base58,
)


def test_scrypt_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["scrypt_keys"]:
        assert derive_scrypt_seed(case["salt"], case["password"]).hex() == case["seed_hex"]
        keypair = Keypair.from_scrypt(case["salt"], case["password"])
        assert pubkey_to_base58(keypair.public_key) == case["pubkey"]
        assert checksum(keypair.public_key) == case["checksum"]


def test_salt_and_password_are_not_interchangeable() -> None:
    assert Keypair.from_scrypt("abc", "abd").public_key != Keypair.from_scrypt("abd", "abc").public_key


def test_seed_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["seed_to_pubkey"]:
        assert pubkey_to_base58(Keypair(bytes.fromhex(case["seed_hex"])).public_key) == case["pubkey"]


def test_checksum_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["pubkey_checksums"]:
        key = parse_pubkey(case["pubkey"])
        assert checksum(key) == case["checksum"]
        assert parse_pubkey(f"{case['pubkey']}:{case['checksum']}") == key
        assert pubkey_display(key) == f"{case['pubkey']}:{case['checksum']}"


def test_wrong_checksum_is_refused() -> None:
    with pytest.raises(InvalidKey, match="checksum mismatch"):
        parse_pubkey("J4c8CARmP9vAFNGtHRuzx14zvxojyRWHW2darguVqjtX:KAw")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "J4c8CARmP9vAFNGtHRuzx14zvxojyRWHW2darguVqjt0",
        "J4c8CARmP9vAFNGtHRuzx14zvxojyRWHW2darguVqjtXJ4c8",
    ],
)
def test_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(InvalidKey):
        parse_pubkey(text)


def test_a_key_typed_short_is_refused_not_padded() -> None:
    key = bytes(1) + bytes(range(1, 32))
    encoded = pubkey_to_base58(key)
    assert encoded.startswith("1") and parse_pubkey(encoded) == key
    with pytest.raises(InvalidKey, match="decodes to 31 bytes"):
        parse_pubkey(encoded[1:])


def test_a_truncated_or_non_base58_key_is_refused() -> None:
    encoded = pubkey_to_base58(bytes(range(100, 132)))
    for text in (encoded[:-2], encoded[:-1] + "0", encoded + "zz"):
        with pytest.raises(InvalidKey):
            parse_pubkey(text)


def test_signature_is_domain_separated(keys: list[Keypair]) -> None:
    payload = b"same payload"
    message = signing_message("june-dev", "identity", 1, payload)
    signature = keys[0].sign(message)
    assert verify(keys[0].public_key, message, signature)
    for other in (
        signing_message("g1", "identity", 1, payload),
        signing_message("june-dev", "membership", 1, payload),
        signing_message("june-dev", "identity", 2, payload),
    ):
        assert not verify(keys[0].public_key, other, signature)
    assert not verify(keys[1].public_key, message, signature)
    assert not verify(keys[0].public_key[:31], message, signature)
    assert not verify(bytes(32), message, signature)
