"""Output: JSON for scripts, short readable text for people; one place decides which, and how
times read.

Times are shown in the local time zone, with how far they are from the chain's present (the head's
median time, the clock every rule uses; on a devnet it runs ahead of the wall clock): "in 3 days,
2026-12-01 14:00". `--json` keeps the raw Unix times.
"""

import json
import re
import sys
from datetime import datetime
from typing import Any

import click
from rich.console import Console

from wallet.context import WalletContext
from wallet.i18n import _, ngettext

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
#: Width of tables written to a file or a pipe, where no terminal says how wide a line may be:
#: wide enough that names and keys are not cut across lines.
PIPE_WIDTH = 200
#: How the node's refusals write a time ("… at median time 1797153570").
_MEDIAN_TIME = re.compile(r"((?:at|until|from) )?median time (\d{9,11})")


def emit(ctx: WalletContext, data: dict[str, Any], human: str) -> None:
    """Print `data` as JSON when `--json` was given, `human` otherwise."""
    if ctx.json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(human)


def console() -> Console:
    """Where tables are printed: the terminal's width, or `PIPE_WIDTH` when output is not one."""
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)


def date(timestamp: int | None) -> str:
    """A time in the local time zone, to the minute; a dash for none."""
    if timestamp is None:
        return "—"
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M")


def duration(seconds: int) -> str:
    """A span in the largest unit that reads naturally: "3 days", "5 hours", "12 minutes"."""
    seconds = abs(seconds)
    if seconds >= _DAY:
        count = seconds // _DAY
        return ngettext("{count} day", "{count} days", count).format(count=count)
    if seconds >= _HOUR:
        count = seconds // _HOUR
        return ngettext("{count} hour", "{count} hours", count).format(count=count)
    count = seconds // _MINUTE
    return ngettext("{count} minute", "{count} minutes", count).format(count=count)


def moment(timestamp: int | None, now: int | None) -> str:
    """ "in 3 days, 2026-12-01 14:00" or "2 hours ago, …" from `now` (the chain's time); the date
    alone without `now`."""
    if timestamp is None:
        return "—"
    if now is None:
        return date(timestamp)
    delta = timestamp - now
    if abs(delta) < _MINUTE:
        return _("now, {date}").format(date=date(timestamp))
    if delta > 0:
        return _("in {span}, {date}").format(span=duration(delta), date=date(timestamp))
    return _("{span} ago, {date}").format(span=duration(delta), date=date(timestamp))


def humanize(text: str, now: int | None) -> str:
    """A node's message with its Unix times ("at median time 1797153570") written as moments."""

    def written(match: re.Match[str]) -> str:
        timestamp = int(match.group(2))
        if now is None:  # no present to count from: the date, after its preposition
            return f"{match.group(1) or ''}{date(timestamp)}"
        return moment(timestamp, now)

    return _MEDIAN_TIME.sub(written, text)
