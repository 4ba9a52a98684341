"""Ed25519 key pairs, Ğ1-compatible scrypt credentials, Base58 public keys and their checksum.

Public keys are shown as `base58:CHK` where CHK is the three-character Ğ1 checksum (rules.md §1.2);
parsing a key written with a checksum verifies it, so a mistyped key is refused instead of paid.
"""

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import nacl.signing

from protocol.crypto import PUBLIC_KEY_SIZE, PublicKey, Signature
from protocol.errors import InvalidKey

SEED_SIZE = 32
#: scrypt parameters of Ğ1 clients (Duniter, Cesium, Silkaj): N=4096, r=16, p=1, 32 bytes.
SCRYPT_N = 4096
SCRYPT_R = 16
SCRYPT_P = 1
CHECKSUM_LENGTH = 3
#: Caps on scrypt credentials' cost: 128·N·r bytes of memory, and work growing as N·r·p.
MAX_SCRYPT_MEMORY = 256 * 2**20
MAX_SCRYPT_WORK = 2**22


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
    def from_scrypt(
        cls, secret_identifier: str, password: str, params: "ScryptParams | None" = None
    ) -> "Keypair":
        """Derive the key a Ğ1 client derives from (secret identifier, password) (rules.md §1.1);
        `params` for credentials made with other scrypt parameters (Silkaj's `--nrp`)."""
        return cls(derive_scrypt_seed(secret_identifier, password, params or G1_SCRYPT))

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(bytes(self._signer.verify_key))

    def sign(self, message: bytes) -> Signature:
        """Detached Ed25519 signature of `message`."""
        return Signature(self._signer.sign(message).signature)


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost parameters for credentials: N (a power of two), r and p.

    Bounded so that a mistyped value costs at most about a second and 256 MiB, never hours.
    """

    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def __post_init__(self) -> None:
        if self.n < 2 or self.n & (self.n - 1):
            raise InvalidKey(f"scrypt N must be a power of two, got {self.n}")
        if not (1 <= self.r <= 32 and 1 <= self.p <= 16):
            raise InvalidKey(f"scrypt r must be 1–32 and p 1–16, got r={self.r}, p={self.p}")
        if 128 * self.n * self.r > MAX_SCRYPT_MEMORY or self.n * self.r * self.p > MAX_SCRYPT_WORK:
            raise InvalidKey(f"scrypt N={self.n}, r={self.r}, p={self.p} would cost too much memory or time")

    @classmethod
    def parse(cls, text: str) -> "ScryptParams":
        """`N,r,p` as Silkaj writes them, e.g. `4096,16,1`."""
        parts = text.replace(" ", "").split(",")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            raise InvalidKey(f"scrypt parameters are written N,r,p (e.g. 4096,16,1), got {text!r}")
        return cls(*(int(part) for part in parts))


#: The scrypt parameters every Ğ1 client uses by default.
G1_SCRYPT = ScryptParams()


def derive_scrypt_seed(secret_identifier: str, password: str, params: ScryptParams = G1_SCRYPT) -> bytes:
    """seed = scrypt(password, salt=secret identifier, N=4096, r=16, p=1, 32 bytes) by default."""
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=secret_identifier.encode("utf-8"),
        n=params.n,
        r=params.r,
        p=params.p,
        dklen=SEED_SIZE,
        maxmem=2 * MAX_SCRYPT_MEMORY,
    )


#: The Bitcoin Base58 alphabet, and each character's digit.
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGITS = {char: digit for digit, char in enumerate(_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58 of `data`, as the `base58` package gives it (a leading zero byte is a "1"), without
    its per-digit bytes concatenation: keys are converted for every condition and display."""
    stripped = data.lstrip(b"\0")
    value = int.from_bytes(stripped, "big")
    digits = []
    while value:
        value, digit = divmod(value, 58)
        digits.append(_ALPHABET[digit])
    digits.append("1" * (len(data) - len(stripped)))
    return "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """The bytes of Base58 `text`, exactly as `base58.b58decode` gives them (trailing whitespace
    ignored, a leading "1" is a zero byte), or `ValueError` for a character outside the alphabet."""
    text = text.rstrip()
    stripped = text.lstrip("1")
    value = 0
    try:
        for char in stripped:
            value = value * 58 + _DIGITS[char]
    except KeyError as exc:
        raise ValueError(f"Invalid character {exc.args[0]!r}") from None
    return b"\0" * (len(text) - len(stripped)) + value.to_bytes((value.bit_length() + 7) // 8, "big")


@lru_cache(maxsize=65536)
def pubkey_to_base58(key: bytes) -> str:
    """Base58 (Bitcoin alphabet) of the raw 32-byte key (cached: members' keys recur in every UD)."""
    return b58encode(key)


def checksum(key: bytes) -> str:
    """The Ğ1 checksum: first three Base58 characters of SHA-256(SHA-256(raw key))."""
    digest = hashlib.sha256(hashlib.sha256(key).digest()).digest()
    return b58encode(digest)[:CHECKSUM_LENGTH]


@lru_cache(maxsize=65536)
def pubkey_display(key: bytes) -> str:
    """`base58:CHK`, the form June shows every public key in (cached: the rules name the keys of
    every certification they check, in case it breaks a rule)."""
    return f"{pubkey_to_base58(key)}:{checksum(key)}"


def parse_pubkey(text: str) -> PublicKey:
    """Parse `base58` or `base58:CHK`: Base58 that decodes to exactly 32 bytes; a checksum, when
    given, must match.

    Nothing is padded or guessed: a key typed a character or two short decodes to fewer bytes (or
    to another key) and is refused, so money is never paid to a key nobody holds.
    """
    text = text.strip()
    encoded, sep, given = text.partition(":")
    if not 40 <= len(encoded) <= 44:
        raise InvalidKey(f"a public key has 40 to 44 Base58 characters, got {len(encoded)}: {encoded[:60]!r}")
    try:
        raw = b58decode(encoded)
    except ValueError as exc:
        raise InvalidKey(f"not Base58 (no 0, O, I or l): {encoded!r}") from exc
    if len(raw) != PUBLIC_KEY_SIZE:
        raise InvalidKey(
            f"{encoded!r} decodes to {len(raw)} bytes, a public key has {PUBLIC_KEY_SIZE}: a character is "
            "missing or extra"
        )
    key = PublicKey(raw)
    if sep:
        expected = checksum(key)
        if given != expected:
            raise InvalidKey(f"checksum mismatch for {encoded}: written {given!r}, computed {expected!r}")
    return key
