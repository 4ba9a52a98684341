"""Reading secrets: hidden prompts on a terminal, one line each from standard input otherwise.

Secrets are never taken from the command line, where other users and shell history would see them.
"""

import getpass
import sys

from wallet.errors import InputError


def read_secret(label: str, *, confirm: bool = False) -> str:
    """Ask for `label` without echo on a terminal; read one line of standard input otherwise."""
    stdin = sys.stdin
    if stdin.isatty():
        value = getpass.getpass(f"{label}: ")
        if confirm and getpass.getpass(f"{label} (again): ") != value:
            raise InputError(f"the two {label.lower()} entries differ")
    else:
        line = stdin.readline()
        if not line:
            raise InputError(f"expected the {label.lower()} on a line of standard input, got end of input")
        value = line.rstrip("\r\n")
    if not value:
        raise InputError(f"the {label.lower()} is empty")
    return value
