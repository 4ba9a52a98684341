"""Reading secrets: hidden prompts on a terminal, one line each from standard input otherwise.

Secrets are never taken from the command line, where other users and shell history would see them.

A passphrase chosen by a person for a new key file must have at least `MIN_NEW_PASSPHRASE_LENGTH`
characters: every command that creates a key file (`june keys generate`, `june keys import`) asks
for it through `read_new_passphrase`. The rule applies only to new files: a key file sealed earlier
under a shorter passphrase still opens.
"""

import getpass
import sys

from wallet.errors import InputError

#: Fewest characters in the passphrase of a new key file.
MIN_NEW_PASSPHRASE_LENGTH = 8


def read_secret(label: str, *, confirm: bool = False, min_length: int = 1) -> str:
    """Ask for `label` without echo on a terminal; read one line of standard input otherwise.

    Refuse an empty value, or one shorter than `min_length` characters (before asking it again).
    """
    stdin = sys.stdin
    if stdin.isatty():
        value = getpass.getpass(f"{label}: ")
        _check_length(label, value, min_length)
        if confirm and getpass.getpass(f"{label} (again): ") != value:
            raise InputError(f"the two {label.lower()} entries differ")
    else:
        line = stdin.readline()
        if not line:
            raise InputError(f"expected the {label.lower()} on a line of standard input, got end of input")
        value = line.rstrip("\r\n")
        _check_length(label, value, min_length)
    return value


def read_new_passphrase() -> str:
    """The passphrase of a new key file: at least `MIN_NEW_PASSPHRASE_LENGTH` characters, asked twice
    on a terminal."""
    return read_secret("Passphrase", confirm=True, min_length=MIN_NEW_PASSPHRASE_LENGTH)


def _check_length(label: str, value: str, min_length: int) -> None:
    if not value:
        raise InputError(f"the {label.lower()} is empty")
    if len(value) < min_length:
        raise InputError(
            f"the {label.lower()} has {len(value)} characters; a new key file needs at least {min_length} "
            "(key files made earlier with a shorter one still open)"
        )
