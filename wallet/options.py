"""Options shared by many commands."""

from collections.abc import Callable
from typing import Any, TypeVar

import click

from wallet.context import WalletContext

F = TypeVar("F", bound=Callable[..., Any])


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(WalletContext).json = True


def json_option(function: F) -> F:
    """`--json` on a command, the same as `june --json …`."""
    return click.option(
        "--json", is_flag=True, expose_value=False, callback=_set_json, help="Print JSON for scripts."
    )(function)
