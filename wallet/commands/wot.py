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
from wallet.i18n import N_, _
from wallet.licence import CERTIFYING
from wallet.options import json_option
from wallet.render import console, emit, humanize, moment


@click.group(help=_("The web of trust: publish your identity, join, renew, leave, certify, revoke, check."))
def wot() -> None:
    """One group per domain, as Silkaj has it."""


wot.add_command(revocation)
wot.add_command(revoke)


@wot.command(help=_("Publish your identity under the pseudonym UID (then ask members to certify you)."))
@click.argument("uid")
@json_option
@click.pass_obj
def publish(ctx: WalletContext, uid: str) -> None:
    """Sign the identity document here and send it."""
    client = ctx.client()
    head = head_of(client)
    document = Identity.create(ctx.keypair(), head.currency, uid, head.ref)
    submitted(ctx, client, document, _("identity {uid}").format(uid=repr(uid)), head.median_time)


def _own_uid(ctx: WalletContext, client: NodeClient) -> str:
    identity = client.get(f"/identities/{pubkey_to_base58(ctx.public_key())}")
    return str(identity["uid"])


@wot.command(help=_("Ask for membership (a newcomer), or renew it (a member)."))
@json_option
@click.pass_obj
def join(ctx: WalletContext) -> None:
    """One command for joining and renewing: the document is the same."""
    client = ctx.client()
    head = head_of(client)
    uid = _own_uid(ctx, client)
    if not ctx.json:
        click.echo(_("Being a member means keeping the June licence: read it with `june licence`."), err=True)
    document = Membership.create(ctx.keypair(), head.currency, MembershipType.IN, uid, head.ref)
    submitted(ctx, client, document, _("membership request of {uid}").format(uid=repr(uid)), head.median_time)


wot.add_command(join, name="renew")


@wot.command(help=_("Leave the web of trust (you stop receiving UDs; your identity stays)."))
@json_option
@click.pass_obj
def leave(ctx: WalletContext) -> None:
    """Confirm first: leaving stops the member's UDs."""
    client = ctx.client()
    head = head_of(client)
    uid = _own_uid(ctx, client)
    if not ctx.assume_yes and not ctx.json:
        click.confirm(_("Leave the web of trust as {uid}?").format(uid=repr(uid)), abort=True, err=True)
    document = Membership.create(ctx.keypair(), head.currency, MembershipType.OUT, uid, head.ref)
    submitted(ctx, client, document, _("leaving request of {uid}").format(uid=repr(uid)), head.median_time)


@wot.command(help=_("Certify WHO (a uid or a public key): you vouch that this person is who they say."))
@click.argument("who")
@json_option
@click.pass_obj
def certify(ctx: WalletContext, who: str) -> None:
    """Show what the certification changes and the licence's checks, then sign it."""
    client = ctx.client()
    target = client.get(f"/identities/{who}")
    needs = client.get(f"/wot/{who}/requirements")
    if target["identity_hash"] is None:
        raise WalletError(_("{who} has no published identity to certify").format(who=repr(who)))
    keypair = ctx.keypair()
    receiver = parse_pubkey(target["pubkey"])
    if receiver == keypair.public_key:
        raise InputError(_("you cannot certify yourself"))
    if not ctx.json:
        distance = needs["distance"]
        certifications = needs["certifications"]
        click.echo(
            _("Identity : {uid}  {key}  ({status})").format(
                uid=target["uid"], key=target["pubkey"], status=_status_word(target["status"])
            ),
            err=True,
        )
        click.echo(
            _("Received : {received} certification(s), {pending} pending, {needed} needed").format(
                received=len(certifications["received"]),
                pending=len(certifications["pending"]),
                needed=certifications["needed"],
            ),
            err=True,
        )
        click.echo(
            _("Distance : reached by {reached} of {sentries} sentries").format(
                reached=distance["reached"], sentries=distance["sentries"]
            )
            + (_(" — outdistanced for now") if distance["outdistanced"] else ""),
            err=True,
        )
        click.echo(f"\n{CERTIFYING}\n" + _("(the whole licence: june licence)") + "\n", err=True)
        if not ctx.assume_yes:
            click.confirm(
                _("Certify {uid} ({key})?").format(uid=target["uid"], key=target["pubkey"]),
                abort=True,
                err=True,
            )
    head = head_of(client)
    document = Certification.create(
        keypair, head.currency, receiver, parse_hash_hex(target["identity_hash"]), head.ref
    )
    submitted(
        ctx, client, document, _("certification of {uid}").format(uid=repr(target["uid"])), head.median_time
    )


# --- status -----------------------------------------------------------------------------------


def standing(needs: dict[str, Any], revoked_on: int | None) -> str:
    """Where an identity stands, in words, with the date that matters (from `/wot/{who}/requirements`)."""
    now = needs["median_time"]
    status, membership = needs["status"], needs["membership"]
    if status == "revoked":
        return (
            _("revoked ({moment})").format(moment=moment(revoked_on, now))
            if revoked_on is not None
            else _("revoked")
        )
    if status == "member" and membership is not None:
        ends = moment(membership["expires_on"], now)
        if membership["leaving"]:
            return _("member leaving (no renewal; membership ends {moment})").format(moment=ends)
        return _("member (membership ends {moment})").format(moment=ends)
    if status == "pending":
        return _("pending (the identity is not written yet)")
    words = _status_word(str(status))
    details = []
    if membership is not None:
        details.append(_("membership ended {moment}").format(moment=moment(membership["expires_on"], now)))
        if membership["revokes_on"] > now:
            details.append(
                _("join again before {moment} or it is revoked").format(
                    moment=moment(membership["revokes_on"], now)
                )
            )
    if needs.get("membership_pending"):
        details.append(_("a membership request is pending"))
    return words + (f" ({'; '.join(details)})" if details else "")


#: An identity's status as the node names it, in the member's words.
STATUS_WORDS = {
    "member": N_("member"),
    "pending": N_("pending"),
    "revoked": N_("revoked"),
    "excluded": N_("excluded"),
    "newcomer": N_("newcomer"),
    "left": N_("left"),
}


def _status_word(status: str) -> str:
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


@wot.command(
    help=_(
        "Where WHO stands (default: you): member, leaving, revoked, excluded or pending; certifications "
        "received and given, expiries, what is missing. Warns 30 days ahead of a membership's end or of "
        "running short of certifications."
    )
)
@click.argument("who", required=False)
@json_option
@click.pass_obj
def status(ctx: WalletContext, who: str | None) -> None:
    """Read without the secret: the node's requirements answer, shown with moments and warnings."""
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
        out.print(f"[bold yellow]{_('warning:')}[/bold yellow] {warning['message']}", highlight=False)
    received = needs["certifications"]
    out.print(
        _("certifications received: {live} live, {needed} needed").format(
            live=len(received["received"]), needed=received["needed"]
        ),
        highlight=False,
    )
    table = Table()
    for column in (_("from"), _("expires")):
        table.add_column(column)
    for cert in received["received"]:
        table.add_row(cert["uid"] or cert["issuer"], moment(cert["expires_on"], now))
    for issuer in received["pending"]:
        table.add_row(issuer, _("pending"))
    out.print(table)
    out.print(
        _("certifications given: {given} of {stock}").format(
            given=len(received["issued"]), stock=received["stock"]
        ),
        highlight=False,
    )
    given = Table()
    for column in (_("to"), _("expires")):
        given.add_column(column)
    for cert in received["issued"]:
        given.add_row(cert["uid"] or cert["receiver"], moment(cert["expires_on"], now))
    out.print(given)
    distance = needs["distance"]
    out.print(
        _("distance: reached by {reached} of {sentries} sentries").format(
            reached=distance["reached"], sentries=distance["sentries"]
        )
    )
    for line in needs["missing"] or [_("nothing is missing")]:
        out.print(f"• {humanize(line, now)}", highlight=False)


@click.command(
    help=_(
        "Find identities by uid or public key, in part: `ali` finds alice and alicia, a key's first "
        "characters find it."
    )
)
@click.argument("who")
@click.option(
    "--limit",
    type=click.IntRange(1, 100),
    default=20,
    show_default=True,
    help=_("How many identities at most."),
)
@json_option
@click.pass_obj
def lookup(ctx: WalletContext, who: str, limit: int) -> None:
    """Search the node's identities; nothing is signed."""
    found = ctx.client().get("/identities", search=who, limit=limit)
    identities = found["identities"]
    if not identities:
        raise WalletError(
            _("no identity's uid contains {who}, nor does a public key start with it").format(who=repr(who))
        )
    width = max(len(i["uid"]) for i in identities)
    lines = [f"{i['uid']:<{width}}  {i['pubkey']}  {_status_word(i['status'])}" for i in identities]
    if found.get("more"):
        lines.append(
            _("… more match: narrow the search, or ask for more with --limit (now {limit})").format(
                limit=limit
            )
        )
    emit(ctx, found, "\n".join(lines))
