"""Encrypted key files: a 32-byte seed sealed with a passphrase (scrypt, then XSalsa20-Poly1305).

The file is JSON so that a person can see what it is and which key it holds without the passphrase:

    {"june_keyfile": 1, "pubkey": "<base58>:<checksum>",
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<base64>"},
     "cipher": "xsalsa20-poly1305", "nonce": "<base64>", "ciphertext": "<base64>"}

Randomness (salt, nonce) is passed in by the caller, which keeps this module pure and testable.

A key file comes from outside, so opening one is bounded before any work is done: its size
(`MAX_KEYFILE_SIZE`) and its nesting (`MAX_NESTING`) are checked before the JSON parser runs, and
its scrypt parameters must lie in sane ranges whose memory and work are capped (`check_scrypt`),
so that a hostile file can cost at most about a second or two and 256 MiB, never hours. Every
refusal is a `KeyfileError` with a plain reason.

The minimum passphrase length for new key files is a wallet rule (`wallet/secrets.py`), not a
property of the format: key files sealed earlier under a shorter passphrase still open.
"""

import base64
import hashlib
import json
from typing import Any

import nacl.exceptions
import nacl.secret

from protocol.errors import ProtocolError
from protocol.keys import Keypair, parse_pubkey, pubkey_display

FORMAT_VERSION = 1
DEFAULT_SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_SIZE = 16
NONCE_SIZE = nacl.secret.SecretBox.NONCE_SIZE
#: Key files larger than this (in characters) are not key files; a real one has about 400.
MAX_KEYFILE_SIZE = 4096
#: Deepest nesting of JSON arrays and objects accepted; a key file has 2 (the document, its kdf).
MAX_NESTING = 4
#: scrypt parameter ranges accepted in a key file: n a power of two in [2^10, 2^20], r, p.
SCRYPT_N_RANGE = (2**10, 2**20)
SCRYPT_R_RANGE = (1, 32)
SCRYPT_P_RANGE = (1, 16)
#: scrypt needs 128·n·r bytes of memory: at most 256 MiB (8 times the default 32 MiB).
MAX_SCRYPT_MEMORY = 256 * 2**20
#: scrypt's time grows as n·r·p: at most 2^22, 16 times the default 2^18 (about 0.1 s), so that
#: opening a key file takes at most a second or two on an ordinary machine.
MAX_SCRYPT_WORK = 2**22
SEALED_SEED_SIZE = nacl.secret.SecretBox.MACBYTES + 32
_DEFAULT_WORK = DEFAULT_SCRYPT_N * SCRYPT_R * SCRYPT_P


class KeyfileError(ProtocolError):
    """A key file that cannot be opened: wrong passphrase, damaged or not a June key file."""


def seal(keypair: Keypair, passphrase: str, *, salt: bytes, nonce: bytes, n: int = DEFAULT_SCRYPT_N) -> str:
    """The JSON text of a key file holding `keypair`, encrypted under `passphrase`."""
    if len(salt) != SALT_SIZE or len(nonce) != NONCE_SIZE:
        raise ValueError(f"salt must have {SALT_SIZE} bytes and nonce {NONCE_SIZE}")
    check_scrypt(n, SCRYPT_R, SCRYPT_P)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, n, SCRYPT_R, SCRYPT_P))
    ciphertext = box.encrypt(keypair.seed, nonce).ciphertext
    document = {
        "june_keyfile": FORMAT_VERSION,
        "pubkey": pubkey_display(keypair.public_key),
        "kdf": {"name": "scrypt", "n": n, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "cipher": "xsalsa20-poly1305",
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }
    return json.dumps(document, indent=2) + "\n"


def public_key_of(text: str) -> str:
    """The public key a key file says it holds (`base58:checksum`), without decrypting it."""
    return str(_parse(text)["pubkey"])


def open_keyfile(text: str, passphrase: str) -> Keypair:
    """Decrypt a key file; raise `KeyfileError` for a wrong passphrase or a damaged file."""
    document = _parse(text)
    kdf = document["kdf"]
    box = nacl.secret.SecretBox(_derive(passphrase, kdf["salt"], kdf["n"], kdf["r"], kdf["p"]))
    try:
        seed = box.decrypt(document["ciphertext"], document["nonce"])
    except nacl.exceptions.CryptoError as exc:
        raise KeyfileError("wrong passphrase, or the key file is damaged") from exc
    keypair = Keypair(seed)
    if pubkey_display(keypair.public_key) != document["pubkey"]:
        raise KeyfileError("the key file's public key does not match its secret key: the file is damaged")
    return keypair


def check_scrypt(n: int, r: int, p: int) -> None:
    """Refuse scrypt parameters outside the sane ranges, or whose memory or work is too large."""
    for name, value, (low, high) in (
        ("n", n, SCRYPT_N_RANGE),
        ("r", r, SCRYPT_R_RANGE),
        ("p", p, SCRYPT_P_RANGE),
    ):
        if type(value) is not int or not low <= value <= high:
            raise KeyfileError(
                f"scrypt parameter {name}={value!r} is not an integer in [{low}, {high}]: refused"
            )
    if n & (n - 1):
        raise KeyfileError(f"scrypt parameter n={n} is not a power of two: refused")
    memory = 128 * n * r
    if memory > MAX_SCRYPT_MEMORY:
        raise KeyfileError(
            f"scrypt parameters n={n}, r={r} would take {memory // 2**20} MiB of memory "
            f"(at most {MAX_SCRYPT_MEMORY // 2**20} MiB): refused"
        )
    work = n * r * p
    if work > MAX_SCRYPT_WORK:
        raise KeyfileError(
            f"scrypt parameters n={n}, r={r}, p={p} would take {work / _DEFAULT_WORK:g} times as long "
            f"to open as a default key file (at most {MAX_SCRYPT_WORK // _DEFAULT_WORK}): refused"
        )


def _check_nesting(text: str) -> None:
    """Refuse JSON nested deeper than `MAX_NESTING`, before the (recursive) parser sees it."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise KeyfileError(f"not a June key file: nested deeper than {MAX_NESTING} levels")
        elif char in "]}":
            depth = max(depth - 1, 0)


def _parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_KEYFILE_SIZE:
        raise KeyfileError(f"not a June key file: {len(text)} characters (at most {MAX_KEYFILE_SIZE})")
    _check_nesting(text)
    try:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise KeyfileError("not a June key file: not a JSON object")
        if document.get("june_keyfile") != FORMAT_VERSION:
            raise KeyfileError(f"unsupported key file version {document.get('june_keyfile')!r}")
        kdf = document["kdf"]
        if not isinstance(kdf, dict):
            raise KeyfileError("not a June key file: kdf is not a JSON object")
        if kdf["name"] != "scrypt" or document["cipher"] != "xsalsa20-poly1305":
            raise KeyfileError("unsupported key derivation or cipher")
        check_scrypt(kdf["n"], kdf["r"], kdf["p"])
        if not isinstance(document["pubkey"], str):
            raise KeyfileError("not a June key file: pubkey is not a string")
        parse_pubkey(document["pubkey"])
        parsed = {
            "pubkey": document["pubkey"],
            "kdf": {"n": kdf["n"], "r": kdf["r"], "p": kdf["p"], "salt": _unb64(kdf["salt"])},
            "nonce": _unb64(document["nonce"]),
            "ciphertext": _unb64(document["ciphertext"]),
        }
    except KeyfileError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, ProtocolError) as exc:
        raise KeyfileError(f"not a June key file: {exc}") from exc
    if len(parsed["nonce"]) != NONCE_SIZE or len(parsed["ciphertext"]) != SEALED_SEED_SIZE:
        raise KeyfileError(
            f"not a June key file: the nonce must have {NONCE_SIZE} bytes "
            f"and the ciphertext {SEALED_SEED_SIZE}"
        )
    return parsed


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    check_scrypt(n, r, p)
    try:
        return scrypt(passphrase, salt, n, r, p, dklen=nacl.secret.SecretBox.KEY_SIZE)
    except (ValueError, MemoryError) as exc:
        raise KeyfileError(f"scrypt failed on the key file's parameters: {exc}") from exc


def scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int, *, dklen: int) -> bytes:
    """scrypt with the memory allowance the parameters need: checked by `check_scrypt` first, so
    at most `MAX_SCRYPT_MEMORY` (every encrypted key format June reads goes through it)."""
    return hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=dklen,
        maxmem=MAX_SCRYPT_MEMORY + 128 * r * (p + 2) + 2**20,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyfileError("not a June key file: bad base64") from exc
