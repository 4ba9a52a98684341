"""Where key files live and how they are written: atomically, private, never over an existing file."""

import os
from pathlib import Path

import nacl.utils

from protocol.crypto import PublicKey
from protocol.keyfile import (
    MAX_KEYFILE_SIZE,
    NONCE_SIZE,
    SALT_SIZE,
    KeyfileError,
    open_keyfile,
    public_key_of,
    seal,
)
from protocol.keys import Keypair, parse_pubkey
from wallet.errors import InputError, WalletError


def default_keyfile() -> Path:
    """`$XDG_CONFIG_HOME/june/key.json`, or `~/.config/june/key.json`."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "june" / "key.json"


def write_new_keyfile(path: Path, keypair: Keypair, passphrase: str) -> None:
    """Write `keypair` sealed under `passphrase` to a new file readable only by its owner."""
    text = seal(keypair, passphrase, salt=nacl.utils.random(SALT_SIZE), nonce=nacl.utils.random(NONCE_SIZE))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise InputError(f"{path} already exists; June never overwrites a key file") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _read_text(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as source:
            text = source.read(MAX_KEYFILE_SIZE + 1)  # a larger file is refused, never loaded whole
    except FileNotFoundError as exc:
        raise WalletError(f"no key file at {path} (create one with `june keys generate`)") from exc
    except (OSError, UnicodeError) as exc:
        raise WalletError(f"cannot read key file {path}: {exc}") from exc
    if len(text) > MAX_KEYFILE_SIZE:
        raise WalletError(f"{path}: not a June key file: over {MAX_KEYFILE_SIZE} characters")
    return text


def public_key_in(path: Path) -> PublicKey | None:
    """The public key a key file shows in clear, without its passphrase; None when the file does
    not show it (it must then be opened to know the key)."""
    try:
        return parse_pubkey(public_key_of(_read_text(path)))
    except KeyfileError:
        return None


def read_keyfile(path: Path, passphrase: str) -> Keypair:
    text = _read_text(path)
    try:
        return open_keyfile(text, passphrase)
    except KeyfileError as exc:
        raise WalletError(f"{path}: {exc}") from exc
