"""Output: JSON for scripts, short readable text for people; one place decides which."""

import json
from typing import Any

import click

from wallet.context import WalletContext


def emit(ctx: WalletContext, data: dict[str, Any], human: str) -> None:
    """Print `data` as JSON when `--json` was given, `human` otherwise."""
    if ctx.json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(human)
