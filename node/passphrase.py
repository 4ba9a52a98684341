"""The forging key of `juned run`: a key file in any Ğ1 format, and where its passphrase comes from.

A member forges with the file their usual client wrote: a June key file, a PubSec from Cesium or
Silkaj, a WIF, EWIF, DEWIF or seed hex (`protocol.keyformats` tells them apart). Only encrypted
formats need a passphrase, and it is asked for only after the file has been checked, from the first
of these that applies:

1. `--passphrase-file PATH`: its first line. Like ssh with a private key, a file that its group or
   others may read is refused: a passphrase anyone on the machine can read protects nothing.
2. systemd credentials: `$CREDENTIALS_DIRECTORY/juned-passphrase` when systemd set that variable
   (`LoadCredential=` or `LoadCredentialEncrypted=juned-passphrase:…` in the unit). systemd makes
   that directory private to the service, so its mode is not checked.
3. a hidden prompt, when standard input is a terminal;
4. otherwise one line of standard input (a script, a pipe). `getpass` is not used there: on a
   non-terminal it warns (GetPassWarning) and reads from the terminal device anyway.

Every failure is a `ForgingKeyError` in one plain line naming the file: unreadable, not a key,
wrong passphrase, or a passphrase file too open.
"""

import getpass
import logging
import os
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from node.errors import NodeError
from protocol.keyformats import ENCRYPTED_FORMATS, MAX_KEY_TEXT_SIZE, KeyFormatError, detect, read_key
from protocol.keys import Keypair

log = logging.getLogger("june.passphrase")

#: The credential name a systemd unit gives the passphrase (`LoadCredential=juned-passphrase:…`).
CREDENTIAL_NAME = "juned-passphrase"
#: A passphrase line longer than this is not a passphrase (and is not read whole).
MAX_PASSPHRASE_SIZE = 4096


class ForgingKeyError(NodeError):
    """The forging key cannot be loaded; the message says why, in one line."""


def read_passphrase_file(path: Path, *, check_mode: bool = True) -> str:
    """The first line of `path`, without its line ending. With `check_mode`, a file readable (or
    writable) by its group or others is refused, as ssh refuses such a private key."""
    try:
        with path.open(encoding="utf-8") as source:
            if check_mode:
                mode = stat.S_IMODE(os.fstat(source.fileno()).st_mode)
                if mode & 0o077:
                    raise ForgingKeyError(
                        f"passphrase file {path}: permissions {mode:04o} are too open "
                        f"(readable by others than its owner): run `chmod 600 {path}`"
                    )
            line = source.readline(MAX_PASSPHRASE_SIZE + 1)
    except FileNotFoundError as exc:
        raise ForgingKeyError(f"passphrase file {path}: no such file") from exc
    except (OSError, UnicodeError) as exc:
        raise ForgingKeyError(f"passphrase file {path}: cannot read it: {exc}") from exc
    return _one_line(line, f"passphrase file {path}")


def read_passphrase_stream(stream: TextIO) -> str:
    """One line of a non-terminal standard input: what a script pipes in."""
    line = stream.readline(MAX_PASSPHRASE_SIZE + 1)
    if not line:
        raise ForgingKeyError("no passphrase: standard input is closed (give --passphrase-file)")
    return _one_line(line, "standard input")


def _one_line(line: str, origin: str) -> str:
    if len(line) > MAX_PASSPHRASE_SIZE:
        raise ForgingKeyError(f"{origin}: the passphrase line is over {MAX_PASSPHRASE_SIZE} characters")
    return line.removesuffix("\n").removesuffix("\r")


def passphrase_source(
    key_file: Path,
    passphrase_file: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    prompt: Callable[[str], str] = lambda text: getpass.getpass(text, stream=sys.stderr),
) -> Callable[[], str]:
    """How to get the passphrase of `key_file`, called only if its format is encrypted; the sources
    are tried in the order of this module's docstring."""

    def ask() -> str:
        if passphrase_file is not None:
            return read_passphrase_file(passphrase_file)
        directory = (os.environ if environ is None else environ).get("CREDENTIALS_DIRECTORY")
        if directory:
            credential = Path(directory) / CREDENTIAL_NAME
            if credential.exists():
                return read_passphrase_file(credential, check_mode=False)
        stream = sys.stdin if stdin is None else stdin
        if stream.isatty():
            return prompt(f"Passphrase of {key_file}: ")
        return read_passphrase_stream(stream)

    return ask


def read_key_text(key_file: Path) -> str:
    """The key file's text, read no further than one character past the largest key format."""
    try:
        with key_file.open(encoding="utf-8") as source:
            text = source.read(MAX_KEY_TEXT_SIZE + 1)
    except FileNotFoundError as exc:
        raise ForgingKeyError(f"key file {key_file}: no such file") from exc
    except (OSError, UnicodeError) as exc:
        raise ForgingKeyError(f"key file {key_file}: cannot read it: {exc}") from exc
    return text


def load_forging_key(key_file: Path, ask_passphrase: Callable[[], str]) -> Keypair:
    """The key pair in `key_file` (any format `protocol.keyformats` reads). An unencrypted file
    (PubSec, WIF, seed) that others may read is loaded with a warning: it is the operator's
    choice, but anyone who reads it can forge and spend as this member."""
    text = read_key_text(key_file)
    try:
        kind = detect(text)
        keypair = read_key(text, ask_passphrase)
    except KeyFormatError as exc:
        raise ForgingKeyError(f"key file {key_file}: {exc}") from exc
    if kind not in ENCRYPTED_FORMATS:
        try:
            mode = stat.S_IMODE(key_file.stat().st_mode)
        except OSError:
            mode = 0
        if mode & 0o077:
            log.warning(
                "key file %s is unencrypted (%s) and readable by others than its owner (mode %04o): "
                "`chmod 600 %s`",
                key_file,
                kind,
                mode,
                key_file,
            )
    return keypair
