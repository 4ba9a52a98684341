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
from wallet.i18n import _, install_for_click
from wallet.licence import licence
from wallet.options import json_option
from wallet.render import emit, humanize


@click.group(
    help=_("June wallet: your keys stay on this machine; documents are signed here and sent to a node.")
)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON for scripts instead of text."))
@click.option(
    "--node",
    "nodes",
    multiple=True,
    envvar="JUNE_NODE",
    help=_(
        "Node API URL, repeatable: asked in order, the next when one fails [env JUNE_NODE; default {url}]."
    ).format(url=DEFAULT_NODE),
)
@click.option(
    "--scrypt",
    "use_scrypt",
    is_flag=True,
    help=_("Sign with scrypt credentials (asked) instead of the key file."),
)
@click.option(
    "--scrypt-params",
    metavar="N,r,p",
    help=_("scrypt parameters of the credentials, if not the Ğ1's 4096,16,1 (Silkaj's --nrp)."),
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=_("Key file [default: ~/.config/june/key.json]."),
)
@click.option("--yes", "-y", "assume_yes", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--full-pubkey", is_flag=True, help=_("Show whole public keys, not shortened ones."))
@click.version_option(package_name="june", prog_name="june", help=_("Show the version and exit."))
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
    """The global options, kept in the context every command receives."""
    wallet = ctx.ensure_object(WalletContext)
    wallet.json = as_json
    wallet.nodes = [url for entry in nodes for url in entry.split()] or [DEFAULT_NODE]
    wallet.use_scrypt = use_scrypt or scrypt_params is not None
    wallet.scrypt_params = None if scrypt_params is None else ScryptParams.parse(scrypt_params)
    wallet.full_pubkey = full_pubkey
    wallet.key_file = key_file
    wallet.assume_yes = assume_yes
    if use_scrypt and key_file is not None:
        raise click.UsageError(_("choose --scrypt or --key-file, not both"))


@click.command("node", help=_("The configured nodes: their head, and whether they agree."))
@json_option
@click.pass_obj
def node_command(ctx: WalletContext) -> None:
    """Ask every node for its head, so a member sees when they disagree."""
    heads = NodeClient(ctx.nodes).check_agreement()
    rows = [{"node": url, "head": head} for url, head in heads]
    human = "\n".join(
        f"{url}: "
        + (
            _("does not answer")
            if head is None
            else _("block #{number} {hash}…").format(number=head["number"], hash=head["hash"][:16])
        )
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
    install_for_click()
    try:
        june.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(_("aborted"), err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except WalletError as exc:
        click.echo(_("error: {message}").format(message=humanize(str(exc), None)), err=True)
        sys.exit(exc.exit_code)
    except ProtocolError as exc:
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo(_("interrupted"), err=True)
        sys.exit(130)
