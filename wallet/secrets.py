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
from wallet.i18n import _

#: Fewest characters in the passphrase of a new key file.
MIN_NEW_PASSPHRASE_LENGTH = 8


def read_secret(label: str, *, confirm: bool = False, min_length: int = 1) -> str:
    """Ask for `label` without echo on a terminal; read one line of standard input otherwise.

    Refuse an empty value, or one shorter than `min_length` characters (before asking it again).
    """
    stdin = sys.stdin
    if stdin.isatty():
        value = getpass.getpass(_("{label}: ").format(label=label))
        _check_length(label, value, min_length)
        if confirm and getpass.getpass(_("{label} (again): ").format(label=label)) != value:
            raise InputError(_("the two {what} entries differ").format(what=label.lower()))
    else:
        line = stdin.readline()
        if not line:
            raise InputError(
                _("expected the {what} on a line of standard input, got end of input").format(
                    what=label.lower()
                )
            )
        value = line.rstrip("\r\n")
        _check_length(label, value, min_length)
    return value


def read_new_passphrase() -> str:
    """The passphrase of a new key file: at least `MIN_NEW_PASSPHRASE_LENGTH` characters, asked twice
    on a terminal."""
    return read_secret(_("Passphrase"), confirm=True, min_length=MIN_NEW_PASSPHRASE_LENGTH)


def _check_length(label: str, value: str, min_length: int) -> None:
    if not value:
        raise InputError(_("the {what} is empty").format(what=label.lower()))
    if len(value) < min_length:
        raise InputError(
            _(
                "the {what} has {count} characters; a new key file needs at least {least} "
                "(key files made earlier with a shorter one still open)"
            ).format(what=label.lower(), count=len(value), least=min_length)
        )
