"""`june wot …` and `june lookup`: identities, memberships, certifications and revocations.

Every document is built and signed here, then sent to a node, which says accepted or which rule
refused it (its times written as moments of the chain's clock). Certifying shows the licence's
checks first. Each document a node acknowledges is noted in the journal (`wallet.journal`), so that
`june check` can tell when one is dropped. Revocations are in `wallet.commands.revocation`.
"""

from typing import Any

import click
from rich.table import Table

from protocol.crypto import parse_hash_hex
from protocol.documents import Certification, Identity, Membership, MembershipType
from protocol.keys import parse_pubkey, pubkey_to_base58
from wallet.client import NodeClient
from wallet.commands.check import WARN_DAYS, ahead
from wallet.commands.revocation import revocation, revoke
from wallet.commands.submission import head_of, submitted
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.licence import CERTIFYING
from wallet.options import json_option
from wallet.render import console, emit, humanize, moment


@click.group()
def wot() -> None:
    """The web of trust: publish your identity, join, renew, leave, certify, revoke, check."""


wot.add_command(revocation)
wot.add_command(revoke)


@wot.command()
@click.argument("uid")
@json_option
@click.pass_obj
def publish(ctx: WalletContext, uid: str) -> None:
    """Publish your identity under the pseudonym UID (then ask members to certify you)."""
    client = ctx.client()
    head = head_of(client)
    document = Identity.create(ctx.keypair(), head.currency, uid, head.ref)
    submitted(ctx, client, document, f"identity {uid!r}", head.median_time)


def _own_uid(ctx: WalletContext, client: NodeClient) -> str:
    identity = client.get(f"/identities/{pubkey_to_base58(ctx.public_key())}")
    return str(identity["uid"])


@wot.command()
@json_option
@click.pass_obj
def join(ctx: WalletContext) -> None:
    """Ask for membership (a newcomer), or renew it (a member)."""
    client = ctx.client()
    head = head_of(client)
    uid = _own_uid(ctx, client)
    if not ctx.json:
        click.echo("Being a member means keeping the June licence: read it with `june licence`.", err=True)
    document = Membership.create(ctx.keypair(), head.currency, MembershipType.IN, uid, head.ref)
    submitted(ctx, client, document, f"membership request of {uid!r}", head.median_time)


wot.add_command(join, name="renew")


@wot.command()
@json_option
@click.pass_obj
def leave(ctx: WalletContext) -> None:
    """Leave the web of trust (you stop receiving UDs; your identity stays)."""
    client = ctx.client()
    head = head_of(client)
    uid = _own_uid(ctx, client)
    if not ctx.assume_yes and not ctx.json:
        click.confirm(f"Leave the web of trust as {uid!r}?", abort=True, err=True)
    document = Membership.create(ctx.keypair(), head.currency, MembershipType.OUT, uid, head.ref)
    submitted(ctx, client, document, f"leaving request of {uid!r}", head.median_time)


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
        click.echo(f"\n{CERTIFYING}\n(the whole licence: june licence)\n", err=True)
        if not ctx.assume_yes:
            click.confirm(f"Certify {target['uid']} ({target['pubkey']})?", abort=True, err=True)
    head = head_of(client)
    document = Certification.create(
        keypair, head.currency, receiver, parse_hash_hex(target["identity_hash"]), head.ref
    )
    submitted(ctx, client, document, f"certification of {target['uid']!r}", head.median_time)


# --- status -----------------------------------------------------------------------------------


def standing(needs: dict[str, Any], revoked_on: int | None) -> str:
    """Where an identity stands, in words, with the date that matters (from `/wot/{who}/requirements`)."""
    now = needs["median_time"]
    status, membership = needs["status"], needs["membership"]
    if status == "revoked":
        return f"revoked ({moment(revoked_on, now)})" if revoked_on is not None else "revoked"
    if status == "member" and membership is not None:
        ends = moment(membership["expires_on"], now)
        if membership["leaving"]:
            return f"member leaving (no renewal; membership ends {ends})"
        return f"member (membership ends {ends})"
    if status == "pending":
        return "pending (the identity is not written yet)"
    words = str(status)
    details = []
    if membership is not None:
        details.append(f"membership ended {moment(membership['expires_on'], now)}")
        if membership["revokes_on"] > now:
            details.append(f"join again before {moment(membership['revokes_on'], now)} or it is revoked")
    if needs.get("membership_pending"):
        details.append("a membership request is pending")
    return words + (f" ({'; '.join(details)})" if details else "")


@wot.command()
@click.argument("who", required=False)
@json_option
@click.pass_obj
def status(ctx: WalletContext, who: str | None) -> None:
    """Where WHO stands (default: you): member, leaving, revoked, excluded or pending; certifications
    received and given, expiries, what is missing. Warns 30 days ahead of a membership's end or of
    running short of certifications."""
    client = ctx.client()
    who = who or pubkey_to_base58(ctx.public_key())
    needs = client.get(f"/wot/{who}/requirements")
    revoked_on = None
    if needs["status"] == "revoked":
        key = pubkey_to_base58(parse_pubkey(needs["pubkey"]))
        revoked_on = client.get(f"/identities/{key}")["revoked_on"]
    now = needs["median_time"]
    state = standing(needs, revoked_on)
    warnings = ahead(needs, WARN_DAYS)
    if ctx.json:
        emit(ctx, {**needs, "revoked_on": revoked_on, "standing": state, "warnings": warnings}, "")
        return
    out = console()
    out.print(f"[bold]{needs['uid']}[/bold]  {needs['pubkey']}", highlight=False)
    out.print(state, highlight=False)
    for warning in warnings:
        out.print(f"[bold yellow]warning:[/bold yellow] {warning['message']}", highlight=False)
    received = needs["certifications"]
    out.print(
        f"certifications received: {len(received['received'])} live, {received['needed']} needed",
        highlight=False,
    )
    table = Table()
    for column in ("from", "expires"):
        table.add_column(column)
    for cert in received["received"]:
        table.add_row(cert["uid"] or cert["issuer"], moment(cert["expires_on"], now))
    for issuer in received["pending"]:
        table.add_row(issuer, "pending")
    out.print(table)
    out.print(f"certifications given: {len(received['issued'])} of {received['stock']}", highlight=False)
    given = Table()
    for column in ("to", "expires"):
        given.add_column(column)
    for cert in received["issued"]:
        given.add_row(cert["uid"] or cert["receiver"], moment(cert["expires_on"], now))
    out.print(given)
    distance = needs["distance"]
    out.print(f"distance: reached by {distance['reached']} of {distance['sentries']} sentries")
    for line in needs["missing"] or ["nothing is missing"]:
        out.print(f"• {humanize(line, now)}", highlight=False)


@click.command()
@click.argument("who")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
@click.pass_obj
def lookup(ctx: WalletContext, who: str, limit: int) -> None:
    """Find identities by uid or public key, in part: `ali` finds alice and alicia, a key's first
    characters find it."""
    found = ctx.client().get("/identities", search=who, limit=limit)
    identities = found["identities"]
    if not identities:
        raise WalletError(f"no identity's uid contains {who!r}, nor does a public key start with it")
    width = max(len(i["uid"]) for i in identities)
    lines = [f"{i['uid']:<{width}}  {i['pubkey']}  {i['status']}" for i in identities]
    if found.get("more"):
        lines.append(f"… more match: narrow the search, or ask for more with --limit (now {limit})")
    emit(ctx, found, "\n".join(lines))
