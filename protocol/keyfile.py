"""Encrypted key files: a 32-byte seed sealed with a passphrase (scrypt, then XSalsa20-Poly1305).

The file is JSON so that a person can see what it is and which key it holds without the passphrase:

    {"june_keyfile": 1, "pubkey": "<base58>:<checksum>",
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<base64>"},
     "cipher": "xsalsa20-poly1305", "nonce": "<base64>", "ciphertext": "<base64>"}

Randomness (salt, nonce) is passed in by the caller, which keeps this module pure and testable.
"""

import base64
import binascii
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
#: Key files larger than this are not key files.
MAX_KEYFILE_SIZE = 4096


class KeyfileError(ProtocolError):
    """A key file that cannot be opened: wrong passphrase, damaged or not a June key file."""


def seal(keypair: Keypair, passphrase: str, *, salt: bytes, nonce: bytes, n: int = DEFAULT_SCRYPT_N) -> str:
    """The JSON text of a key file holding `keypair`, encrypted under `passphrase`."""
    if len(salt) != SALT_SIZE or len(nonce) != NONCE_SIZE:
        raise ValueError(f"salt must have {SALT_SIZE} bytes and nonce {NONCE_SIZE}")
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


def _parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_KEYFILE_SIZE:
        raise KeyfileError(f"not a June key file: {len(text)} characters")
    try:
        document = json.loads(text)
        if document.get("june_keyfile") != FORMAT_VERSION:
            raise KeyfileError(f"unsupported key file version {document.get('june_keyfile')!r}")
        kdf = document["kdf"]
        if kdf["name"] != "scrypt" or document["cipher"] != "xsalsa20-poly1305":
            raise KeyfileError("unsupported key derivation or cipher")
        for name in ("n", "r", "p"):
            if type(kdf[name]) is not int or not 1 <= kdf[name] <= 2**20:
                raise KeyfileError(f"bad scrypt parameter {name}")
        parse_pubkey(document["pubkey"])
        return {
            "pubkey": document["pubkey"],
            "kdf": {"n": kdf["n"], "r": kdf["r"], "p": kdf["p"], "salt": _unb64(kdf["salt"])},
            "nonce": _unb64(document["nonce"]),
            "ciphertext": _unb64(document["ciphertext"]),
        }
    except KeyfileError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, ProtocolError) as exc:
        raise KeyfileError(f"not a June key file: {exc}") from exc


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    try:
        return hashlib.scrypt(
            passphrase.encode("utf-8"),
            salt=salt,
            n=n,
            r=r,
            p=p,
            dklen=nacl.secret.SecretBox.KEY_SIZE,
            maxmem=2**31 - 1,
        )
    except ValueError as exc:
        raise KeyfileError(f"bad scrypt parameters in key file: {exc}") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError) as exc:
        raise KeyfileError("not a June key file: bad base64") from exc
