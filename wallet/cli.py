"""Entry point of `june`: global options, command groups, and the one place errors become exit codes."""

import sys
from pathlib import Path

import click

from protocol.errors import ProtocolError
from protocol.keys import ScryptParams
from wallet.client import DEFAULT_NODE, NodeClient
from wallet.commands.chain import blocks, difficulty
from wallet.commands.check import check
from wallet.commands.documents import document
from wallet.commands.found import found
from wallet.commands.keys import keys
from wallet.commands.money import balance, history, money, send
from wallet.commands.pay import pay
from wallet.commands.wot import lookup, wot
from wallet.context import WalletContext
from wallet.errors import WalletError
from wallet.licence import licence
from wallet.options import json_option
from wallet.render import emit, humanize


@click.group()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
@click.option(
    "--node",
    "nodes",
    multiple=True,
    envvar="JUNE_NODE",
    help=f"Node API URL, repeatable: asked in order, the next when one fails [env JUNE_NODE; "
    f"default {DEFAULT_NODE}].",
)
@click.option(
    "--scrypt",
    "use_scrypt",
    is_flag=True,
    help="Sign with scrypt credentials (asked) instead of the key file.",
)
@click.option(
    "--scrypt-params",
    metavar="N,r,p",
    help="scrypt parameters of the credentials, if not the Ğ1's 4096,16,1 (Silkaj's --nrp).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file [default: ~/.config/june/key.json].",
)
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--full-pubkey", is_flag=True, help="Show whole public keys, not shortened ones.")
@click.version_option(package_name="june", prog_name="june")
@click.pass_context
def june(
    ctx: click.Context,
    as_json: bool,
    nodes: tuple[str, ...],
    use_scrypt: bool,
    scrypt_params: str | None,
    key_file: Path | None,
    assume_yes: bool,
    full_pubkey: bool,
) -> None:
    """June wallet: your keys stay on this machine; documents are signed here and sent to a node."""
    wallet = ctx.ensure_object(WalletContext)
    wallet.json = as_json
    wallet.nodes = [url for entry in nodes for url in entry.split()] or [DEFAULT_NODE]
    wallet.use_scrypt = use_scrypt or scrypt_params is not None
    wallet.scrypt_params = None if scrypt_params is None else ScryptParams.parse(scrypt_params)
    wallet.full_pubkey = full_pubkey
    wallet.key_file = key_file
    wallet.assume_yes = assume_yes
    if use_scrypt and key_file is not None:
        raise click.UsageError("choose --scrypt or --key-file, not both")


@click.command("node")
@json_option
@click.pass_obj
def node_command(ctx: WalletContext) -> None:
    """The configured nodes: their head, and whether they agree."""
    heads = NodeClient(ctx.nodes).check_agreement()
    rows = [{"node": url, "head": head} for url, head in heads]
    human = "\n".join(
        f"{url}: " + ("does not answer" if head is None else f"block #{head['number']} {head['hash'][:16]}…")
        for url, head in heads
    )
    emit(ctx, {"nodes": rows, "agree": len({(h["number"], h["hash"]) for _, h in heads if h}) <= 1}, human)


for _command in (
    keys,
    balance,
    send,
    pay,
    history,
    money,
    wot,
    lookup,
    node_command,
    document,
    check,
    blocks,
    difficulty,
    licence,
    found,
):
    june.add_command(_command)


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
        click.echo(f"error: {humanize(str(exc), None)}", err=True)
        sys.exit(exc.exit_code)
    except ProtocolError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
