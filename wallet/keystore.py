"""Where key files live and how they are written: atomically, private, never over an existing file.

The account's key file (`--key-file`, default ~/.config/june/key.json) may be in any format
`protocol.keyformats` reads: a June key file, PubSec, WIF, seed hex, EWIF or DEWIF. Whatever makes
it unusable is a `WalletError` naming the file, as it has always been for June key files.
"""

import os
from collections.abc import Callable
from pathlib import Path

import nacl.utils

from protocol.crypto import PublicKey
from protocol.keyfile import (
    MAX_KEYFILE_SIZE,
    NONCE_SIZE,
    SALT_SIZE,
    KeyfileError,
    open_keyfile,
    seal,
)
from protocol.keyformats import KeyFormatError, public_key_without_passphrase, read_key
from protocol.keys import Keypair
from wallet.errors import WalletError
from wallet.files import write_private_file


def default_keyfile() -> Path:
    """`$XDG_CONFIG_HOME/june/key.json`, or `~/.config/june/key.json`."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "june" / "key.json"


def write_new_keyfile(path: Path, keypair: Keypair, passphrase: str) -> None:
    """Write `keypair` sealed under `passphrase` to a new file readable only by its owner."""
    text = seal(keypair, passphrase, salt=nacl.utils.random(SALT_SIZE), nonce=nacl.utils.random(NONCE_SIZE))
    write_private_file(path, text)


def _read_text(path: Path) -> str:
    """The file's text, reading at most one character past the largest key file."""
    try:
        with path.open(encoding="utf-8") as source:
            text = source.read(MAX_KEYFILE_SIZE + 1)  # a larger file is refused, never loaded whole
    except FileNotFoundError as exc:
        raise WalletError(f"no key file at {path} (create one with `june keys generate`)") from exc
    except (OSError, UnicodeError) as exc:
        raise WalletError(f"cannot read key file {path}: {exc}") from exc
    if len(text) > MAX_KEYFILE_SIZE:
        raise WalletError(f"{path}: not a key file: over {MAX_KEYFILE_SIZE} characters")
    return text


def public_key_in(path: Path) -> PublicKey | None:
    """The account's public key without a passphrase: shown in clear by a June key file, derived
    from a PubSec (its pub line checked against its sec), WIF or seed file. None for EWIF and
    DEWIF, which hide it, and for a file that cannot be read as a key: it must then be opened,
    and opening it says why it cannot be."""
    try:
        return public_key_without_passphrase(_read_text(path))
    except KeyFormatError:
        return None


def read_any_keyfile(path: Path, ask_passphrase: Callable[[], str]) -> Keypair:
    """The key pair in `path`, whatever its format (detected); the passphrase is asked through
    `ask_passphrase` only for the encrypted ones (June key file, EWIF, DEWIF), and only once the
    file has been checked."""
    text = _read_text(path)
    try:
        return read_key(text, ask_passphrase)
    except KeyFormatError as exc:  # the file is at fault; an `InputError` from asking passes through
        raise WalletError(f"{path}: {exc}") from exc


def read_keyfile(path: Path, passphrase: str) -> Keypair:
    """Open a June key file (that format only) with a passphrase already in hand."""
    text = _read_text(path)
    try:
        return open_keyfile(text, passphrase)
    except KeyfileError as exc:
        raise WalletError(f"{path}: {exc}") from exc
