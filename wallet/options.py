"""Options shared by many commands."""

from collections.abc import Callable
from typing import Any, TypeVar

import click

from wallet.context import WalletContext
from wallet.i18n import _

F = TypeVar("F", bound=Callable[..., Any])


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(WalletContext).json = True


def json_option(function: F) -> F:
    """`--json` on a command, the same as `june --json …`."""
    return click.option(
        "--json", is_flag=True, expose_value=False, callback=_set_json, help="Print JSON for scripts."
    )(function)


def spending_options(function: F) -> F:
    """`--dry-run` and `--allow-dust`, the same on every command that pays (`send`, `pay`)."""
    function = click.option(
        "--allow-dust",
        is_flag=True,
        help=_("Pay even if an account is left below 1.00, which the 1-unit rule then destroys."),
    )(function)
    dry_run = _("Build and sign, show the documents, send nothing.")
    return click.option("--dry-run", is_flag=True, help=dry_run)(function)
