"""Entry point of `june`: global options, command groups, and the one place errors become exit codes."""

import sys

import click

from protocol.errors import ProtocolError
from wallet.commands.keys import keys
from wallet.context import WalletContext
from wallet.errors import WalletError


@click.group()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
@click.version_option(package_name="june", prog_name="june")
@click.pass_context
def june(ctx: click.Context, as_json: bool) -> None:
    """June wallet: your keys stay on this machine; documents are signed here and sent to a node."""
    ctx.ensure_object(WalletContext).json = as_json


june.add_command(keys)


def main() -> None:
    try:
        june.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except WalletError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except ProtocolError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
