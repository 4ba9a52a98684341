"""Hashes and Ed25519 signatures, with the domain separation every June signature uses.

A signature is made over `DOMAIN ‖ canonical([currency, kind, version]) ‖ payload`, so that a signature
made for one currency, one document kind or one format version is never valid for another
(design.md §4).
"""

import hashlib
from typing import NewType

import nacl.bindings
import nacl.exceptions

from protocol.encoding import encode

#: 32 raw bytes of an Ed25519 public key.
PublicKey = NewType("PublicKey", bytes)
#: 64 raw bytes of a detached Ed25519 signature.
Signature = NewType("Signature", bytes)
#: 32 raw bytes of a SHA-256 digest.
Hash = NewType("Hash", bytes)

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
HASH_SIZE = 32
ZERO_HASH = Hash(bytes(HASH_SIZE))
#: Placeholder signature of a document not signed yet; never verifies.
NO_SIGNATURE = Signature(b"")

#: Prefix of every message June signs; never a valid prefix of a CBOR document on its own.
SIGNATURE_DOMAIN = b"june/signature/v1\x00"


def sha256(data: bytes) -> Hash:
    """SHA-256 of `data` (rules.md §1)."""
    return Hash(hashlib.sha256(data).digest())


def hash_hex(digest: bytes) -> str:
    """A digest as June and Ğ1 show it: upper-case hexadecimal."""
    return digest.hex().upper()


def parse_hash_hex(text: str) -> Hash:
    """Parse a 64-character hexadecimal digest (any case)."""
    if len(text) != 2 * HASH_SIZE:
        raise ValueError(f"a hash has {2 * HASH_SIZE} hexadecimal characters, got {len(text)}")
    return Hash(bytes.fromhex(text))


def signing_message(currency: str, kind: str, version: int, payload: bytes) -> bytes:
    """The exact bytes signed for a document of `kind` and `version` in `currency`."""
    return SIGNATURE_DOMAIN + encode([currency, kind, version]) + payload


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` by `public_key`.

    libsodium's verification is strict (canonical S, no small-order keys), so a valid signature
    cannot be altered into another valid one by a third party.
    """
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True
