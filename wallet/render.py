"""Output: JSON for scripts, short readable text for people; one place decides which."""

import json
from datetime import UTC, datetime
from typing import Any

import click

from wallet.context import WalletContext


def emit(ctx: WalletContext, data: dict[str, Any], human: str) -> None:
    """Print `data` as JSON when `--json` was given, `human` otherwise."""
    if ctx.json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(human)


def date(timestamp: int | None) -> str:
    """A time of the chain (UTC), to the minute; a dash for none."""
    return "—" if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")
