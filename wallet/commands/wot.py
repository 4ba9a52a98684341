"""`june wot …` and `june lookup`: identities, memberships, certifications and revocations.

Every document is built and signed here, then sent to a node, which says accepted or which rule
refused it. Certifying asks for the checks a careful member makes first.
"""

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from protocol.crypto import parse_hash_hex
from protocol.documents import BlockRef, Certification, Identity, Membership, MembershipType, Revocation
from protocol.keys import parse_pubkey, pubkey_to_base58
from wallet.client import NodeClient
from wallet.commands.documents import describe_answer, follow_hint
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.options import json_option
from wallet.render import date, emit

LICENCE = (
    "Before you certify, make sure you know this person well enough to contact them, that you have\n"
    "checked their public key with them, and that they have only one identity (the Ğ1 licence)."
)


def blockstamp(client: NodeClient) -> tuple[str, BlockRef]:
    node = client.get("/node")
    head = node["head"]
    if head is None:
        raise WalletError("the node has no chain yet")
    return node["currency"], BlockRef(head["number"], parse_hash_hex(head["hash"]))


def submitted(ctx: WalletContext, client: NodeClient, document: Any, what: str) -> None:
    answer = client.submit(document.to_bytes())
    emit(
        ctx,
        {key: answer[key] for key in ("result", "hash", "kind", "reason", "until") if key in answer},
        f"{what}: {describe_answer(answer)}\n{follow_hint([str(answer['hash'])])}",
    )


@click.group()
def wot() -> None:
    """The web of trust: publish your identity, join, renew, leave, certify, revoke, check."""


@wot.command()
@click.argument("uid")
@json_option
@click.pass_obj
def publish(ctx: WalletContext, uid: str) -> None:
    """Publish your identity under the pseudonym UID (then ask members to certify you)."""
    client = ctx.client()
    currency, ref = blockstamp(client)
    submitted(ctx, client, Identity.create(ctx.keypair(), currency, uid, ref), f"identity {uid!r}")


def _own_uid(ctx: WalletContext, client: NodeClient) -> str:
    identity = client.get(f"/identities/{pubkey_to_base58(ctx.keypair().public_key)}")
    return str(identity["uid"])


@wot.command()
@json_option
@click.pass_obj
def join(ctx: WalletContext) -> None:
    """Ask for membership (a newcomer), or renew it (a member)."""
    client = ctx.client()
    currency, ref = blockstamp(client)
    uid = _own_uid(ctx, client)
    document = Membership.create(ctx.keypair(), currency, MembershipType.IN, uid, ref)
    submitted(ctx, client, document, f"membership request of {uid!r}")


wot.add_command(join, name="renew")


@wot.command()
@json_option
@click.pass_obj
def leave(ctx: WalletContext) -> None:
    """Leave the web of trust (you stop receiving UDs; your identity stays)."""
    client = ctx.client()
    currency, ref = blockstamp(client)
    uid = _own_uid(ctx, client)
    if not ctx.assume_yes and not ctx.json:
        click.confirm(f"Leave the web of trust as {uid!r}?", abort=True, err=True)
    document = Membership.create(ctx.keypair(), currency, MembershipType.OUT, uid, ref)
    submitted(ctx, client, document, f"leaving request of {uid!r}")


@wot.command()
@click.argument("who")
@json_option
@click.pass_obj
def certify(ctx: WalletContext, who: str) -> None:
    """Certify WHO (a uid or a public key): you vouch that this person is who they say."""
    client = ctx.client()
    target = client.get(f"/identities/{who}")
    needs = client.get(f"/wot/{who}/requirements")
    if target["identity_hash"] is None:
        raise WalletError(f"{who!r} has no published identity to certify")
    keypair = ctx.keypair()
    receiver = parse_pubkey(target["pubkey"])
    if receiver == keypair.public_key:
        raise InputError("you cannot certify yourself")
    if not ctx.json:
        distance = needs["distance"]
        click.echo(f"Identity : {target['uid']}  {target['pubkey']}  ({target['status']})", err=True)
        click.echo(
            f"Received : {len(needs['certifications']['received'])} certification(s), "
            f"{len(needs['certifications']['pending'])} pending, {needs['certifications']['needed']} needed",
            err=True,
        )
        click.echo(
            f"Distance : reached by {distance['reached']} of {distance['sentries']} sentries"
            + (" — outdistanced for now" if distance["outdistanced"] else ""),
            err=True,
        )
        click.echo(LICENCE, err=True)
        if not ctx.assume_yes:
            click.confirm(f"Certify {target['uid']} ({target['pubkey']})?", abort=True, err=True)
    currency, ref = blockstamp(client)
    document = Certification.create(keypair, currency, receiver, parse_hash_hex(target["identity_hash"]), ref)
    submitted(ctx, client, document, f"certification of {target['uid']!r}")


@wot.group()
def revocation() -> None:
    """Revoke your identity for good: create the document now, keep it offline, publish it if your
    key is lost or stolen."""


@revocation.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_create(ctx: WalletContext, path: Path) -> None:
    """Write a signed revocation of your identity to PATH (never overwritten)."""
    client = ctx.client()
    currency, _ref = blockstamp(client)
    identity = client.get(f"/identities/{pubkey_to_base58(ctx.keypair().public_key)}")
    if identity["identity_hash"] is None:
        raise WalletError("you have no published identity to revoke")
    document = Revocation.create(ctx.keypair(), currency, parse_hash_hex(identity["identity_hash"]))
    try:
        with path.open("xb") as out:
            out.write(document.to_bytes())
    except FileExistsError as exc:
        raise InputError(f"{path} already exists; June never overwrites it") from exc
    emit(
        ctx,
        {"file": str(path)},
        f"Revocation of {identity['uid']!r} written to {path}: keep it offline and safe.",
    )


@revocation.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_publish(ctx: WalletContext, path: Path) -> None:
    """Publish the revocation kept in PATH (no key needed: it is already signed)."""
    client = ctx.client()
    if not ctx.assume_yes and not ctx.json:
        click.confirm("Revoke this identity for good? It can never be a member again.", abort=True, err=True)
    answer = client.submit(path.read_bytes())
    emit(ctx, answer, f"revocation: {describe_answer(answer)}\n{follow_hint([str(answer['hash'])])}")


@wot.command()
@click.argument("who", required=False)
@json_option
@click.pass_obj
def status(ctx: WalletContext, who: str | None) -> None:
    """Membership of WHO (default: you): certifications received and given, expiries, what is missing."""
    client = ctx.client()
    who = who or pubkey_to_base58(ctx.keypair().public_key)
    needs = client.get(f"/wot/{who}/requirements")
    if ctx.json:
        emit(ctx, needs, "")
        return
    console = Console()
    membership = needs["membership"]
    console.print(f"[bold]{needs['uid']}[/bold]  {needs['pubkey']}  {needs['status']}")
    if membership:
        console.print(f"membership expires {date(membership['expires_on'])} UTC")
    table = Table(title="certifications received")
    for column in ("from", "expires"):
        table.add_column(column)
    for cert in needs["certifications"]["received"]:
        table.add_row(cert["uid"] or cert["issuer"], date(cert["expires_on"]))
    for issuer in needs["certifications"]["pending"]:
        table.add_row(issuer, "pending")
    console.print(table)
    given = Table(title="certifications given")
    for column in ("to", "expires"):
        given.add_column(column)
    for cert in needs["certifications"]["issued"]:
        given.add_row(cert["uid"] or cert["receiver"], date(cert["expires_on"]))
    console.print(given)
    distance = needs["distance"]
    console.print(f"distance: reached by {distance['reached']} of {distance['sentries']} sentries")
    for line in needs["missing"] or ["nothing is missing"]:
        console.print(f"• {line}")


@click.command()
@click.argument("who")
@json_option
@click.pass_obj
def lookup(ctx: WalletContext, who: str) -> None:
    """Find an identity by uid or public key."""
    identity = ctx.client().get(f"/identities/{who}")
    emit(ctx, identity, f"{identity['uid']}  {identity['pubkey']}  {identity['status']}")
