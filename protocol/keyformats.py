"""The Ğ1 key formats a wallet or a node's operator meets, read and written: so a key moves between
June, Silkaj, DuniterPy, Cesium and Ğecko without retyping credentials, and a member forges with
the file their usual client wrote (`juned run --key-file`). Pure, hence here in protocol/: the
wallet and the node both read keys through it.

| format | what it holds                                        | passphrase |
| ------ | ---------------------------------------------------- | ---------- |
| june   | June's encrypted JSON key file (protocol/keyfile.py)  | yes        |
| pubsec | `Type: PubSec` text: public key, 64-byte secret key   | no         |
| seed   | the 32-byte Ed25519 seed in 64 hex characters         | no         |
| wif    | `Type: WIF` text, Base58 of 0x01 ‖ seed ‖ checksum    | no         |
| ewif   | `Type: EWIF` text, the seed under scrypt + AES-256    | yes        |
| dewif  | Base64 DEWIF v1 (Duniter RFC 13), Ed25519 seed        | yes        |

Byte layouts (all checksums are the first bytes of SHA-256(SHA-256(x))):

- WIF: 0x01 ‖ seed(32) ‖ checksum(2) of the first 33 bytes; Base58.
- EWIF: 0x02 ‖ salt(4) ‖ encrypted seed(32) ‖ checksum(2) of the first 37 bytes; Base58. salt =
  checksum(4) of the public key; k = scrypt(passphrase, salt, N=16384, r=8, p=8, 64 bytes); each
  16-byte half of the seed is XORed with the matching half of k[:32], then AES-256-ECB-encrypted
  under k[32:]. A wrong passphrase shows as a salt that does not match the decrypted key.
- DEWIF v1: version(4, big-endian, 1) ‖ currency(4: 1 Ğ1, 0x10000001 Ğ1-Test, 0 none) ‖ log N(1)
  ‖ algorithm(1, 0 = Ed25519) ‖ nonce(12) ‖ (seed ‖ public key)(64) XOR scrypt(passphrase,
  salt=SHA-256("dewif" ‖ nonce ‖ passphrase), N=2^log N, r=16, p=1, 64 bytes); Base64. The
  public key is the checksum: a wrong passphrase decrypts to a seed that does not give it.

Everything here is pure (randomness, like DEWIF's nonce, is passed in) and every refusal is a
`KeyFormatError` with a plain reason. A text is bounded (`MAX_KEY_TEXT_SIZE`) before it is parsed,
and a DEWIF's scrypt cost is checked against the caps of June's own key files before any work,
so that a hostile file costs at most about a second and 256 MiB. Each format is checked in full
(checksums, lengths) before a passphrase is asked.
"""

import base64
import hashlib
import re
import struct
import unicodedata
from collections.abc import Callable

import base58
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from protocol.crypto import PublicKey
from protocol.errors import InvalidKey, ProtocolError
from protocol.keyfile import MAX_KEYFILE_SIZE, KeyfileError, check_scrypt, open_keyfile, scrypt
from protocol.keyfile import public_key_of as june_public_key_of
from protocol.keys import SEED_SIZE, Keypair, parse_pubkey, pubkey_to_base58

JUNE = "june"
PUBSEC = "pubsec"
SEED = "seed"
WIF = "wif"
EWIF = "ewif"
DEWIF = "dewif"
#: Formats `june keys export` writes (a June key file is written by `generate`/`import`).
EXPORT_FORMATS = (PUBSEC, WIF, EWIF, DEWIF, SEED)
#: Formats whose reading needs a passphrase.
ENCRYPTED_FORMATS = frozenset({JUNE, EWIF, DEWIF})

#: The largest key text accepted, in characters: a June key file (the largest format) has about
#: 400, a DEWIF 116, a PubSec about 170.
MAX_KEY_TEXT_SIZE = MAX_KEYFILE_SIZE
#: A PubSec file has about 170 bytes; anything much larger is not one (and is not parsed).
MAX_PUBSEC_SIZE = 1024

WIF_SIZE = 35
EWIF_SIZE = 39
EWIF_SCRYPT = (16384, 8, 8)  # N, r, p: fixed by the format

DEWIF_VERSION = 1
DEWIF_ALGORITHM_ED25519 = 0
DEWIF_NONCE_SIZE = 12
DEWIF_HEADER_SIZE = 4 + 4 + 1 + 1 + DEWIF_NONCE_SIZE
DEWIF_SIZE = DEWIF_HEADER_SIZE + 64
DEWIF_SCRYPT_R = 16
DEWIF_SCRYPT_P = 1
#: log2 of scrypt's N for new DEWIF: 2^15·16·128 bytes = 64 MiB, about a third of a second.
DEWIF_LOG_N = 15
#: DEWIF currency codes (RFC 13), by the names `--currency` takes.
DEWIF_CURRENCIES = {"g1": 0x00000001, "g1-test": 0x10000001}

_SEED_HEX = re.compile(r"[0-9a-fA-F]{64}")
_TYPES = {"pubsec": PUBSEC, "wif": WIF, "ewif": EWIF, "dewif": DEWIF}


class KeyFormatError(ProtocolError):
    """A key text that cannot be read: unknown or damaged format, wrong passphrase. The message
    says why in plain words; the wallet shows it as an input error, the node as a start failure."""


# ---------------------------------------------------------------------------------------- detection


def detect(text: str) -> str:
    """The format of a key text: one of `JUNE`, `PUBSEC`, `SEED`, `WIF`, `EWIF`, `DEWIF`.

    A `Type:` line decides when there is one (as in the files DuniterPy and Silkaj write);
    otherwise a single token is recognised by its shape: 64 hex characters, Base58 of a WIF or
    EWIF (by length and first byte), Base64 of a DEWIF (by length and version).
    """
    _check_size(text)
    stripped = text.strip()
    if not stripped:
        raise KeyFormatError("not a key: the text is empty")
    if stripped[0] in "{[":
        return JUNE
    fields = _fields(stripped)
    if "type" in fields:
        found = _TYPES.get(fields["type"].lower())
        if found is None:
            raise KeyFormatError(
                f"unknown key type {fields['type'][:40]!r} (known: PubSec, WIF, EWIF, DEWIF)"
            )
        return found
    if len(stripped.split()) == 1:
        if _SEED_HEX.fullmatch(stripped):
            return SEED
        raw = _b58_or_none(stripped)
        if raw is not None and (len(raw), raw[:1]) == (WIF_SIZE, b"\x01"):
            return WIF
        if raw is not None and (len(raw), raw[:1]) == (EWIF_SIZE, b"\x02"):
            return EWIF
        raw = _b64_or_none(stripped)
        if raw is not None and len(raw) >= 4 and raw[:4] == DEWIF_VERSION.to_bytes(4, "big"):
            return DEWIF
    raise KeyFormatError(
        "unknown key format: expected a June key file, PubSec, WIF, EWIF, DEWIF, "
        "or a seed of 64 hexadecimal characters"
    )


def read_key(text: str, ask_passphrase: Callable[[], str]) -> Keypair:
    """The key pair in `text`, whatever its format; `ask_passphrase` is called (once) only for an
    encrypted format, and only after the text has been checked, so a damaged or hostile file is
    refused before anyone types a passphrase."""
    kind = detect(text)
    if kind == PUBSEC:
        return parse_pubsec(text)
    if kind == SEED:
        return parse_seed_hex(text)
    if kind == WIF:
        return parse_wif(text)
    if kind == EWIF:
        salt, encrypted = _ewif_parts(text)
        return _open_ewif(salt, encrypted, ask_passphrase())
    if kind == DEWIF:
        header, encrypted = _dewif_parts(text)
        return _open_dewif(header, encrypted, ask_passphrase())
    try:
        june_public_key_of(text)
    except KeyfileError as exc:
        raise KeyFormatError(str(exc)) from exc
    try:
        return open_keyfile(text, ask_passphrase())
    except KeyfileError as exc:
        raise KeyFormatError(str(exc)) from exc


def public_key_without_passphrase(text: str) -> PublicKey | None:
    """The public key `text` shows or lets derive without a passphrase: a June key file's
    clear `pubkey`, or the key of an unencrypted format; None for EWIF and DEWIF, which hide it."""
    kind = detect(text)
    if kind == JUNE:
        try:
            return parse_pubkey(june_public_key_of(text))
        except (KeyfileError, InvalidKey) as exc:
            raise KeyFormatError(str(exc)) from exc
    if kind in ENCRYPTED_FORMATS:
        return None
    return read_key(text, _no_passphrase).public_key


def _no_passphrase() -> str:  # pragma: no cover - only encrypted formats call it
    raise AssertionError("an unencrypted key format asked for a passphrase")


# ------------------------------------------------------------------------------------------ PubSec


def pubsec_text(keypair: Keypair) -> str:
    """The PubSec format of Ğ1 clients (Cesium, Silkaj): the public key and the 64-byte secret key."""
    secret = keypair.seed + keypair.public_key
    return (
        f"Type: PubSec\nVersion: 1\npub: {pubkey_to_base58(keypair.public_key)}\n"
        f"sec: {base58.b58encode(secret).decode()}\n"
    )


def parse_pubsec(text: str) -> Keypair:
    """The key pair in a PubSec file; `KeyFormatError` with the reason for anything else.

    PubSec carries no key derivation parameters (its secret is in the clear), so there is no
    scrypt cost to bound; the text's size is bounded before it is parsed.
    """
    if len(text) > MAX_PUBSEC_SIZE:
        raise KeyFormatError(f"not a PubSec file: {len(text)} characters (at most {MAX_PUBSEC_SIZE})")
    fields = _fields(text)
    if fields.get("type") != "PubSec" or "sec" not in fields:
        raise KeyFormatError("not a PubSec file (expected lines Type: PubSec, pub: …, sec: …)")
    try:
        secret = base58.b58decode(fields["sec"])
    except ValueError as exc:
        raise KeyFormatError(f"the sec line is not Base58: {exc}") from exc
    if len(secret) != 64:
        raise KeyFormatError(f"the secret key has {len(secret)} bytes, a PubSec secret has 64")
    keypair = Keypair(secret[:32])
    if keypair.public_key != secret[32:] or (
        "pub" in fields and fields["pub"] != pubkey_to_base58(keypair.public_key)
    ):
        raise KeyFormatError("the file's public key does not match its secret key")
    return keypair


# ---------------------------------------------------------------------------------------- seed hex


def seed_hex_text(keypair: Keypair) -> str:
    """The seed in 64 hexadecimal characters, as DuniterPy's `save_seedhex_file` and Silkaj's
    authentication file hold it."""
    return keypair.seed.hex() + "\n"


def parse_seed_hex(text: str) -> Keypair:
    """The key of a seed file: exactly 64 hex characters (surrounding blanks aside), nothing guessed."""
    _check_size(text)
    stripped = text.strip()
    if not _SEED_HEX.fullmatch(stripped):
        raise KeyFormatError(
            f"not a seed: a seed is 64 hexadecimal characters (0-9, a-f), got {len(stripped)} characters"
        )
    return Keypair(bytes.fromhex(stripped))


# --------------------------------------------------------------------------------------------- WIF


def wif_text(keypair: Keypair) -> str:
    """A WIF v1 file as DuniterPy writes it: the seed in clear, with a 2-byte checksum."""
    payload = b"\x01" + keypair.seed
    data = base58.b58encode(payload + _checksum(payload, 2)).decode("ascii")
    return f"Type: WIF\nVersion: 1\nData: {data}\n"


def parse_wif(text: str) -> Keypair:
    """The key of a WIF file (or bare WIF string), its version byte and checksum verified."""
    raw = _base58_data(text, WIF, "WIF")
    if raw[:1] == b"\x02":
        raise KeyFormatError("this is an EWIF (encrypted WIF), not a WIF")
    if raw[:1] != b"\x01":
        raise KeyFormatError(f"not a WIF: its first byte is {raw[0]:#04x}, a WIF starts with 0x01")
    if len(raw) != WIF_SIZE:
        raise KeyFormatError(f"not a WIF: {len(raw)} bytes, a WIF has {WIF_SIZE}: truncated or damaged")
    if _checksum(raw[:33], 2) != raw[33:]:
        raise KeyFormatError("wrong checksum: the WIF is mistyped or damaged")
    return Keypair(raw[1:33])


# -------------------------------------------------------------------------------------------- EWIF


def ewif_text(keypair: Keypair, passphrase: str) -> str:
    """An EWIF v1 file as DuniterPy writes it. Deterministic: its salt comes from the public key."""
    salt = _checksum(keypair.public_key, 4)
    key = _ewif_key(passphrase, salt)
    masked = _xor(keypair.seed, key[:32])
    encryptor = Cipher(algorithms.AES(key[32:]), modes.ECB()).encryptor()
    encrypted = encryptor.update(masked) + encryptor.finalize()
    payload = b"\x02" + salt + encrypted
    data = base58.b58encode(payload + _checksum(payload, 2)).decode("ascii")
    return f"Type: EWIF\nVersion: 1\nData: {data}\n"


def parse_ewif(text: str, passphrase: str) -> Keypair:
    """The key of an EWIF file (or bare string): checksum first, then the passphrase."""
    salt, encrypted = _ewif_parts(text)
    return _open_ewif(salt, encrypted, passphrase)


def _ewif_parts(text: str) -> tuple[bytes, bytes]:
    """(salt, encrypted seed) of a well-formed EWIF; checked before the passphrase is asked."""
    raw = _base58_data(text, EWIF, "EWIF")
    if raw[:1] == b"\x01":
        raise KeyFormatError("this is a WIF (unencrypted), not an EWIF")
    if raw[:1] != b"\x02":
        raise KeyFormatError(f"not an EWIF: its first byte is {raw[0]:#04x}, an EWIF starts with 0x02")
    if len(raw) != EWIF_SIZE:
        raise KeyFormatError(f"not an EWIF: {len(raw)} bytes, an EWIF has {EWIF_SIZE}: truncated or damaged")
    if _checksum(raw[:37], 2) != raw[37:]:
        raise KeyFormatError("wrong checksum: the EWIF is mistyped or damaged")
    return raw[1:5], raw[5:37]


def _open_ewif(salt: bytes, encrypted: bytes, passphrase: str) -> Keypair:
    for candidate in _passphrase_forms(passphrase):
        key = _ewif_key(candidate, salt)
        decryptor = Cipher(algorithms.AES(key[32:]), modes.ECB()).decryptor()
        seed = _xor(decryptor.update(encrypted) + decryptor.finalize(), key[:32])
        keypair = Keypair(seed)
        if _checksum(keypair.public_key, 4) == salt:
            return keypair
    raise KeyFormatError("wrong passphrase for this EWIF")


def _ewif_key(passphrase: str, salt: bytes) -> bytes:
    n, r, p = EWIF_SCRYPT
    return _scrypt(passphrase, salt, n, r, p)


# ------------------------------------------------------------------------------------------- DEWIF


def dewif_text(
    keypair: Keypair, passphrase: str, *, nonce: bytes, currency: str = "g1", log_n: int = DEWIF_LOG_N
) -> str:
    """A DEWIF v1 (Ed25519 seed) in Base64, one line. The passphrase is NFKD-normalised, as the
    RFC asks; `nonce` (12 random bytes) is the caller's, which keeps this function pure."""
    if len(nonce) != DEWIF_NONCE_SIZE:
        raise ValueError(f"a DEWIF nonce has {DEWIF_NONCE_SIZE} bytes")
    if currency not in DEWIF_CURRENCIES:
        raise KeyFormatError(
            f"unknown currency {currency!r} for DEWIF (known: {', '.join(DEWIF_CURRENCIES)})"
        )
    check_scrypt(2**log_n, DEWIF_SCRYPT_R, DEWIF_SCRYPT_P)
    header = (
        struct.pack(">II", DEWIF_VERSION, DEWIF_CURRENCIES[currency])
        + bytes([log_n, DEWIF_ALGORITHM_ED25519])
        + nonce
    )
    key = _dewif_key(unicodedata.normalize("NFKD", passphrase), nonce, log_n)
    encrypted = _xor(keypair.seed + keypair.public_key, key)
    return base64.b64encode(header + encrypted).decode("ascii") + "\n"


def parse_dewif(text: str, passphrase: str) -> Keypair:
    """The key of a DEWIF v1 Ed25519 (Base64, optionally under a `Type: DEWIF`/`Data:` header)."""
    header, encrypted = _dewif_parts(text)
    return _open_dewif(header, encrypted, passphrase)


def dewif_currency(text: str) -> str | None:
    """The currency a DEWIF names (`g1`, `g1-test`), None for 'none' or an unknown code."""
    header, _ = _dewif_parts(text)
    code = int.from_bytes(header[4:8], "big")
    return next((name for name, value in DEWIF_CURRENCIES.items() if value == code), None)


def _dewif_parts(text: str) -> tuple[bytes, bytes]:
    """(header, encrypted data) of a well-formed DEWIF v1 Ed25519, its scrypt cost checked."""
    _check_size(text)
    fields = _fields(text)
    if "type" in fields and fields["type"].lower() != DEWIF:
        raise KeyFormatError(f"not a DEWIF: the file says Type: {fields['type'][:40]}")
    data = fields.get("data", text).strip()
    raw = _b64_or_none(data)
    if raw is None:
        raise KeyFormatError("not a DEWIF: not Base64")
    if len(raw) < DEWIF_HEADER_SIZE:
        raise KeyFormatError(f"not a DEWIF: {len(raw)} bytes, truncated")
    version = int.from_bytes(raw[:4], "big")
    if version != DEWIF_VERSION:
        raise KeyFormatError(f"DEWIF version {version} is not supported (only version {DEWIF_VERSION})")
    if raw[9] != DEWIF_ALGORITHM_ED25519:
        raise KeyFormatError(
            f"DEWIF algorithm {raw[9]} is not supported: only Ed25519 seeds (0), not BIP32-Ed25519 mnemonics"
        )
    if len(raw) != DEWIF_SIZE:
        raise KeyFormatError(f"not a DEWIF: {len(raw)} bytes, a DEWIF v1 Ed25519 has {DEWIF_SIZE}")
    try:
        check_scrypt(2 ** raw[8], DEWIF_SCRYPT_R, DEWIF_SCRYPT_P)
    except KeyfileError as exc:
        raise KeyFormatError(f"DEWIF log N = {raw[8]}: {exc}") from exc
    return raw[:DEWIF_HEADER_SIZE], raw[DEWIF_HEADER_SIZE:]


def _open_dewif(header: bytes, encrypted: bytes, passphrase: str) -> Keypair:
    log_n, nonce = header[8], header[10:DEWIF_HEADER_SIZE]
    for candidate in _passphrase_forms(passphrase):
        plain = _xor(encrypted, _dewif_key(candidate, nonce, log_n))
        keypair = Keypair(plain[:SEED_SIZE])
        if keypair.public_key == plain[SEED_SIZE:]:
            return keypair
    raise KeyFormatError("wrong passphrase for this DEWIF, or the DEWIF is damaged")


def _dewif_key(passphrase: str, nonce: bytes, log_n: int) -> bytes:
    secret = passphrase.encode("utf-8")
    salt = hashlib.sha256(b"dewif" + nonce + secret).digest()
    return _scrypt(passphrase, salt, 2**log_n, DEWIF_SCRYPT_R, DEWIF_SCRYPT_P)


# ------------------------------------------------------------------------------------------ helpers


def _check_size(text: str) -> None:
    if len(text) > MAX_KEY_TEXT_SIZE:
        raise KeyFormatError(f"not a key file: {len(text)} characters (at most {MAX_KEY_TEXT_SIZE})")


def _fields(text: str) -> dict[str, str]:
    """`Name: value` lines, names lower-cased (the header form of PubSec, WIF, EWIF)."""
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}


def _base58_data(text: str, kind: str, label: str) -> bytes:
    """The Base58 `Data:` of a WIF or EWIF file, or the text itself when it is the bare string."""
    _check_size(text)
    fields = _fields(text)
    if "type" in fields and fields["type"].lower() != kind:
        raise KeyFormatError(f"not a {label}: the file says Type: {fields['type'][:40]}")
    if "type" in fields and "data" not in fields:
        raise KeyFormatError(f"not a {label} file: no Data line")
    data = fields.get("data", text).strip()
    raw = _b58_or_none(data)
    if raw is None or not raw:
        raise KeyFormatError(f"not a {label}: its data is not Base58 (no 0, O, I or l)")
    return raw


def _b58_or_none(text: str) -> bytes | None:
    try:
        return bytes(base58.b58decode(text))
    except ValueError:
        return None


def _b64_or_none(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def _checksum(data: bytes, size: int) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()[:size]


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def _passphrase_forms(passphrase: str) -> list[str]:
    """The passphrase as typed, then NFKD-normalised if that differs: a DEWIF made by a client
    that follows the RFC (NFKD) and an EWIF made by DuniterPy (as typed) both open."""
    normalised = unicodedata.normalize("NFKD", passphrase)
    return [passphrase] if normalised == passphrase else [passphrase, normalised]


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return scrypt(passphrase, salt, n, r, p, dklen=64)
