"""Wallet errors: each says in plain words what went wrong; `wallet/cli.py` maps them to exit codes."""


class WalletError(Exception):
    """A failure the user can act on; shown as `error: <message>`, exit code 1."""

    exit_code = 1


class InputError(WalletError):
    """Missing or unusable input (an empty line where a secret was expected, a refused overwrite)."""

    exit_code = 2
