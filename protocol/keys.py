"""Ed25519 key pairs, Ğ1-compatible scrypt credentials, Base58 public keys and their checksum.

Public keys are shown as `base58:CHK` where CHK is the three-character Ğ1 checksum (rules.md §1.2);
parsing a key written with a checksum verifies it, so a mistyped key is refused instead of paid.
"""

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import base58
import nacl.signing

from protocol.crypto import PUBLIC_KEY_SIZE, PublicKey, Signature
from protocol.errors import InvalidKey

SEED_SIZE = 32
#: scrypt parameters of Ğ1 clients (Duniter, Cesium, Silkaj): N=4096, r=16, p=1, 32 bytes.
SCRYPT_N = 4096
SCRYPT_R = 16
SCRYPT_P = 1
CHECKSUM_LENGTH = 3


@dataclass(frozen=True)
class Keypair:
    """A signing key, held as its 32-byte seed; the secret never leaves this object except on request."""

    seed: bytes = field(repr=False)
    _signer: nacl.signing.SigningKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_SIZE:
            raise InvalidKey(f"a seed has {SEED_SIZE} bytes, got {len(self.seed)}")
        object.__setattr__(self, "_signer", nacl.signing.SigningKey(self.seed))

    @classmethod
    def from_scrypt(cls, secret_identifier: str, password: str) -> "Keypair":
        """Derive the key a Ğ1 client derives from (secret identifier, password) (rules.md §1.1)."""
        return cls(derive_scrypt_seed(secret_identifier, password))

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(bytes(self._signer.verify_key))

    def sign(self, message: bytes) -> Signature:
        """Detached Ed25519 signature of `message`."""
        return Signature(self._signer.sign(message).signature)


def derive_scrypt_seed(secret_identifier: str, password: str) -> bytes:
    """seed = scrypt(password, salt=secret identifier, N=4096, r=16, p=1, 32 bytes)."""
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=secret_identifier.encode("utf-8"),
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=SEED_SIZE,
        maxmem=2**26,
    )


@lru_cache(maxsize=65536)
def pubkey_to_base58(key: bytes) -> str:
    """Base58 (Bitcoin alphabet) of the raw 32-byte key (cached: members' keys recur in every UD)."""
    return str(base58.b58encode(key).decode("ascii"))


def checksum(key: bytes) -> str:
    """The Ğ1 checksum: first three Base58 characters of SHA-256(SHA-256(raw key))."""
    digest = hashlib.sha256(hashlib.sha256(key).digest()).digest()
    return str(base58.b58encode(digest).decode("ascii"))[:CHECKSUM_LENGTH]


def pubkey_display(key: bytes) -> str:
    """`base58:CHK`, the form June shows every public key in."""
    return f"{pubkey_to_base58(key)}:{checksum(key)}"


def parse_pubkey(text: str) -> PublicKey:
    """Parse `base58` or `base58:CHK`; a checksum, when given, must match.

    A Base58 string that decodes to fewer than 32 bytes is left-padded with zero bytes, as Ğ1
    tools do for keys written without their leading `1`s.
    """
    text = text.strip()
    encoded, sep, given = text.partition(":")
    if not 40 <= len(encoded) <= 44:
        raise InvalidKey(f"a public key has 40 to 44 Base58 characters, got {len(encoded)}: {encoded!r}")
    try:
        raw = base58.b58decode(encoded)
    except ValueError as exc:
        raise InvalidKey(f"not Base58: {encoded!r}") from exc
    if len(raw) > PUBLIC_KEY_SIZE:
        raise InvalidKey(f"{encoded!r} decodes to {len(raw)} bytes, a public key has {PUBLIC_KEY_SIZE}")
    key = PublicKey(raw.rjust(PUBLIC_KEY_SIZE, b"\x00"))
    if sep:
        expected = checksum(key)
        if given != expected:
            raise InvalidKey(f"checksum mismatch for {encoded}: written {given!r}, computed {expected!r}")
    return key
