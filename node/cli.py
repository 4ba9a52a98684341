"""Entry point of `juned`, the node's operator commands."""

import dataclasses
import errno
import json
import logging
import sys
import time as clock
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from node.commands import audit, data, found, live, run
from node.errors import DiskFull, NodeError
from node.failures import address_in_use, busy_store, describe_exception, leaves
from protocol.crypto import hash_hex
from protocol.documents import Block
from protocol.errors import ProtocolError
from protocol.forge import build_genesis, prove
from protocol.genesis import DEV_NAMES, GenesisDescription, dev_genesis, dev_keypair
from protocol.keys import checksum, pubkey_to_base58
from protocol.params import dev_parameters
from protocol.rules.block import validate_block
from protocol.state import MemoryState


@click.group()
@click.version_option(package_name="june", prog_name="juned")
def juned() -> None:
    """June node: keeps the chain, talks to peers, forges blocks, serves wallets and audits."""


for _command in (
    data.init,
    data.status,
    data.export_chain,
    data.import_chain,
    data.revert,
    data.reindex,
    live.peers,
    run.run,
    run.devnet,
    audit.audit,
    found.found,
):
    juned.add_command(_command)


@juned.command("dev-genesis")
@click.option(
    "--members",
    default=5,
    show_default=True,
    type=click.IntRange(dev_parameters(0).sig_qty + 1, len(DEV_NAMES)),
    help="Number of founders (each must be certifiable by sig_qty others).",
)
@click.option("--time", "start", type=int, help="Genesis time, Unix seconds [default: now].")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the description here (CBOR)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def dev_genesis_command(members: int, start: int | None, out: Path | None, as_json: bool) -> None:
    """Found a local `dev` currency: build, sign and verify its genesis description, and print it.

    Founders are dev members whose keys are public: secret identifier = password = their name.
    """
    genesis = dev_genesis(time=int(clock.time()) if start is None else start, members=members)
    genesis.check()
    block = forge_genesis_block(genesis)
    encoded = genesis.to_bytes()
    if GenesisDescription.from_bytes(encoded) != genesis:
        raise click.ClickException("the genesis description did not survive its own encoding")
    if out is not None:
        if out.exists():
            raise click.ClickException(f"{out} already exists")
        out.write_bytes(encoded)
    summary = describe(genesis)
    summary["block0"] = {"hash": hash_hex(block.hash), "state_digest": hash_hex(block.state_digest)}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    render(summary, len(encoded), out)


def forge_genesis_block(genesis: GenesisDescription) -> Block:
    """Block 0 of the dev currency, issued by its first founder and validated like any block."""
    founder = dev_keypair(genesis.identities[0].uid)
    draft = build_genesis(genesis, founder.public_key)
    nonce = prove(draft, draft.pow_min)
    if nonce is None:  # prove only gives up when asked to stop
        raise click.ClickException("no nonce found for block 0")
    block = draft.signed(founder, nonce)
    validate_block(MemoryState(), block)
    return block


def describe(genesis: GenesisDescription) -> dict[str, Any]:
    """The genesis description as plain data, for JSON and for the text view."""
    uid_of = {i.issuer: i.uid for i in genesis.identities}
    received = Counter(c.receiver for c in genesis.certifications)
    signatures = len(genesis.identities) + len(genesis.memberships) + len(genesis.certifications)
    return {
        "currency": genesis.currency,
        "time": genesis.time,
        "hash": hash_hex(genesis.hash),
        "parameters": dataclasses.asdict(genesis.parameters),
        "members": [
            {
                "uid": i.uid,
                "pubkey": pubkey_to_base58(i.issuer),
                "checksum": checksum(i.issuer),
                "identity": hash_hex(i.hash),
                "certifications_received": received[i.issuer],
            }
            for i in genesis.identities
        ],
        "certifications": [[uid_of[c.issuer], uid_of[c.receiver]] for c in genesis.certifications],
        "signatures_verified": signatures,
    }


def render(summary: dict[str, Any], size: int, out: Path | None) -> None:
    console = Console()
    when = datetime.fromtimestamp(summary["time"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    console.print(f"[bold]June dev genesis[/bold] — currency [cyan]{summary['currency']}[/cyan], {when}")
    console.print(f"description hash {summary['hash']} ({size} bytes)", soft_wrap=True)
    console.print(f"block 0 hash     {summary['block0']['hash']} (identifies the currency)", soft_wrap=True)
    members = Table(title="Founding members (secret identifier = password = uid)")
    for column in ("uid", "public key", "certified by"):
        members.add_column(column)
    for member in summary["members"]:
        members.add_row(
            member["uid"], f"{member['pubkey']}:{member['checksum']}", str(member["certifications_received"])
        )
    console.print(members)
    parameters = Table(title="Currency parameters (dev profile)")
    parameters.add_column("parameter")
    parameters.add_column("value", justify="right")
    for name, value in summary["parameters"].items():
        parameters.add_row(name, str(value))
    console.print(parameters)
    console.print(
        f"{len(summary['certifications'])} certifications; "
        f"{summary['signatures_verified']} signatures verified; every founder is certified enough; "
        "block 0 built, proven, signed and validated."
    )
    if out is not None:
        console.print(f"written to {out}")


def main() -> None:
    # the store's own warnings (a full disk) go to the log of `juned run` only; a command says the
    # same in its one-line error
    logging.getLogger("june").addHandler(logging.NullHandler())
    try:
        juned.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        line = failure_line(exc)
        if line is None:  # a bug: its traceback is what a report needs
            raise
        click.echo(f"error: {line}", err=True)
        sys.exit(1)


def failure_line(exc: BaseException) -> str | None:
    """The one line an operator reads for a failure that is not a bug, even from inside exception
    groups: June's own errors, a full disk, a busy port, a store held by a running juned; None for
    anything else."""
    for leaf in leaves(exc):
        if isinstance(leaf, (ProtocolError, NodeError)):
            held = busy_store(leaf)
            if held is not None:
                return str(held)
            return str(leaf)
    for leaf in leaves(exc):
        if isinstance(leaf, OSError) and leaf.errno in (errno.ENOSPC, errno.EDQUOT):
            return str(DiskFull(leaf.filename or "a file"))
    busy = address_in_use(exc)
    if busy is not None:
        return f"an address is already in use: {describe_exception(busy)}"
    return None
