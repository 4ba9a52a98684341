"""`june wot …` and `june lookup`: identities, memberships, certifications and revocations.

Every document is built and signed here, then sent to a node, which says accepted or which rule
refused it (its times written as moments of the chain's clock). Certifying shows the licence's
checks first. Each document a node acknowledges is noted in the journal (`wallet.journal`), so that
`june check` can tell when one is dropped.

A revocation file is text, so that it can be printed, read and checked by eye. PEM-like:

    June revocation document: publishing it revokes the identity below for ever.
    Currency: g1
    Uid: alice
    Public key: <base58>:<checksum>
    Identity hash: <64 hexadecimal characters>
    Warning: anyone who has this file can revoke this identity. Keep it offline and private.
    Warning: publish it only if the key is lost or stolen: june wot revocation publish FILE

    -----BEGIN JUNE REVOCATION-----
    <Base64 of the signed document's canonical CBOR bytes, lines of 64 characters>
    -----END JUNE REVOCATION-----

Only the block between the markers counts: the signed document (currency, key, identity hash,
signature). `Name: value` lines above it are for people; `verify` checks that they agree with the
document. The file is created with mode 0600, never over an existing one, and synced to disk
before June says it is written. Files made before this format (the bare CBOR bytes) are still read.
"""

import base64
import binascii
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from protocol.crypto import hash_hex, parse_hash_hex
from protocol.documents import BlockRef, Certification, Identity, Membership, MembershipType, Revocation
from protocol.errors import ProtocolError
from protocol.keys import parse_pubkey, pubkey_display, pubkey_to_base58
from wallet.client import NodeClient, Refused
from wallet.commands.check import WARN_DAYS, ProblemsFound, ahead
from wallet.commands.documents import describe_answer, follow_hint
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.files import read_bounded, write_private_file
from wallet.journal import remember_sent
from wallet.licence import CERTIFYING
from wallet.options import json_option
from wallet.render import console, emit, humanize, moment

BEGIN = "-----BEGIN JUNE REVOCATION-----"
END = "-----END JUNE REVOCATION-----"
#: A revocation file has under a kilobyte; a larger one is not read whole.
MAX_REVOCATION_FILE = 64 * 1024
TITLE = "June revocation document: publishing it revokes the identity below for ever."
WARNINGS = (
    "anyone who has this file can revoke this identity. Keep it offline and private.",
    "publish it only if the key is lost or stolen: june wot revocation publish FILE",
)


@dataclass(frozen=True)
class Head:
    """The node's currency and head: the block new documents refer to, and the chain's present."""

    currency: str
    ref: BlockRef
    median_time: int


def head_of(client: NodeClient) -> Head:
    """Asked before each document: its reference block, and the present its moments count from."""
    node = client.get("/node")
    head = node["head"]
    if head is None:
        raise WalletError("the node has no chain yet")
    return Head(node["currency"], BlockRef(head["number"], parse_hash_hex(head["hash"])), head["median_time"])


def submit(client: NodeClient, raw: bytes, now: int | None) -> dict[str, Any]:
    """Send a signed document; a refusal's times are rewritten as moments from `now`."""
    try:
        answer: dict[str, Any] = client.submit(raw)
    except Refused as exc:
        raise Refused(exc.status, humanize(exc.reason, now), exc.rule) from None
    return answer


def report(ctx: WalletContext, answer: dict[str, Any], kind: str, what: str, now: int | None) -> None:
    """Note an acknowledged document in the journal and say what the node answered."""
    remember_sent(answer, kind, what)
    emit(
        ctx,
        {key: answer[key] for key in ("result", "hash", "kind", "reason", "until") if key in answer},
        f"{what}: {describe_answer(answer, now)}\n{follow_hint([str(answer['hash'])])}",
    )


def submitted(
    ctx: WalletContext, client: NodeClient, document: Any, what: str, now: int | None = None
) -> None:
    """Sign-and-send's last step, the same for every web-of-trust document."""
    answer = submit(client, document.to_bytes(), now)
    report(ctx, answer, str(answer.get("kind") or type(document).__name__.lower()), what, now)


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


# --- revocation files -------------------------------------------------------------------------


def revocation_text(document: Revocation, uid: str) -> str:
    """The revocation file's text (format in the module docstring)."""
    body = base64.b64encode(document.to_bytes()).decode("ascii")
    lines = [
        TITLE,
        f"Currency: {document.currency}",
        f"Uid: {uid}",
        f"Public key: {pubkey_display(document.issuer)}",
        f"Identity hash: {hash_hex(document.identity)}",
        *(f"Warning: {warning}" for warning in WARNINGS),
        "",
        BEGIN,
        *textwrap.wrap(body, 64),
        END,
    ]
    return "\n".join(lines) + "\n"


def read_revocation(data: bytes, source: str) -> tuple[Revocation, dict[str, str]]:
    """A revocation file's document and its header lines (`name` in lower case → value); the old
    binary form (bare CBOR) has no header. Raise `InputError` for anything else."""
    headers: dict[str, str] = {}
    if BEGIN.encode() in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source} is not a June revocation file: {exc}") from exc
        before, _, rest = text.partition(BEGIN)
        inside, found_end, _after = rest.partition(END)
        if not found_end:
            raise InputError(f"{source} is cut short: no {END} line")
        for line in before.splitlines():
            name, colon, value = line.partition(":")
            if colon and name.strip() and name.strip().lower() != "warning":
                headers[name.strip().lower()] = value.strip()
        try:
            raw = base64.b64decode("".join(inside.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"{source}: the block between the markers is not Base64: {exc}") from exc
    else:
        raw = data
    try:
        return Revocation.from_bytes(raw), headers
    except ProtocolError as exc:
        raise InputError(f"{source} holds no revocation document: {exc}") from exc


def _own_identity(ctx: WalletContext, client: NodeClient) -> dict[str, Any]:
    try:
        identity: dict[str, Any] = client.get(f"/identities/{pubkey_to_base58(ctx.public_key())}")
    except Refused as exc:
        if exc.status == 404:
            raise WalletError("you have no published identity to revoke") from None
        raise
    if identity["identity_hash"] is None:
        raise WalletError("you have no published identity to revoke")
    return identity


def _own_revocation(
    ctx: WalletContext, client: NodeClient, identity: dict[str, Any] | None = None
) -> tuple[Revocation, dict[str, Any], Head]:
    """A revocation of the account's identity, signed (the passphrase is asked here)."""
    head = head_of(client)
    identity = identity or _own_identity(ctx, client)
    if identity["status"] == "revoked":
        raise WalletError(f"{identity['uid']} is already revoked")
    document = Revocation.create(ctx.keypair(), head.currency, parse_hash_hex(identity["identity_hash"]))
    return document, identity, head


@wot.group()
def revocation() -> None:
    """Revoke your identity for good: create the document now, keep it offline, publish it if your
    key is lost or stolen."""


@revocation.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_create(ctx: WalletContext, path: Path) -> None:
    """Write a signed revocation of your identity to PATH: text, private (0600), never overwritten."""
    client = ctx.client()
    if path.exists():
        raise InputError(f"{path} already exists; June never overwrites it")
    document, identity, _head = _own_revocation(ctx, client)
    write_private_file(path, revocation_text(document, str(identity["uid"])))
    emit(
        ctx,
        {
            "file": str(path),
            "uid": identity["uid"],
            "pubkey": pubkey_display(document.issuer),
            "identity_hash": hash_hex(document.identity),
            "hash": hash_hex(document.hash),
        },
        f"Revocation of {identity['uid']!r} written to {path}: keep it offline, private and safe.\n"
        f"Check it any time with: june wot revocation verify {path}",
    )


def _describe_file(document: Revocation, headers: dict[str, str]) -> str:
    uid = headers.get("uid")
    key = pubkey_display(document.issuer)
    return f"{uid} ({key})" if uid else key


@revocation.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_publish(ctx: WalletContext, path: Path) -> None:
    """Publish the revocation kept in PATH (no key needed: it is already signed)."""
    client = ctx.client()
    document, headers = read_revocation(
        read_bounded(path, MAX_REVOCATION_FILE, "a revocation file"), str(path)
    )
    named = _describe_file(document, headers)
    if not ctx.assume_yes:
        click.confirm(f"Revoke {named} for good? It can never be a member again.", abort=True, err=True)
    now = head_of(client).median_time
    answer = submit(client, document.to_bytes(), now)
    report(ctx, answer, "revocation", f"revocation of {named}", now)


def verify_revocation(client: NodeClient, document: Revocation, headers: dict[str, str]) -> dict[str, Any]:
    """Whether a revocation would be accepted now: its signature, that its header agrees with it,
    and, on the node, the currency and an identity with that hash, not revoked yet. `problems`
    lists what is wrong, in words; empty when the file is good."""
    problems: list[str] = []
    key = pubkey_display(document.issuer)
    signature_valid = document.is_signature_valid()
    if not signature_valid:
        problems.append("the signature does not verify: the file is damaged, or not signed by this key")
    declared = {
        "currency": document.currency,
        "public key": key,
        "identity hash": hash_hex(document.identity),
    }
    for name, value in declared.items():
        shown = headers.get(name)
        if shown is not None and (shown.upper() if name == "identity hash" else shown) != value:
            problems.append(f"the header says {name} {shown!r}, the signed document {value!r}")
    head = head_of(client)
    if head.currency != document.currency:
        problems.append(
            f"the document is for the currency {document.currency!r}, the node's is {head.currency!r}"
        )
    identity: dict[str, Any] | None = None
    try:
        identity = client.get(f"/identities/{pubkey_to_base58(document.issuer)}")
    except Refused as exc:
        if exc.status != 404:
            raise
        problems.append(f"the node knows no identity of the key {key}")
    pending = False
    if identity is not None:
        if str(identity["identity_hash"]).upper() != hash_hex(document.identity):
            problems.append(
                f"the identity of {key} on the node ({identity['uid']}, {identity['identity_hash']}) is not "
                "the one this document revokes"
            )
        elif identity["status"] == "revoked":
            when = moment(identity["revoked_on"], head.median_time)
            problems.append(f"{identity['uid']} is already revoked ({when})")
        else:
            waiting = client.get("/pending", kind="revocation", issuer=pubkey_to_base58(document.issuer))
            pending = any(entry["hash"] == hash_hex(document.hash) for entry in waiting)
    return {
        "valid": not problems,
        "problems": problems,
        "currency": document.currency,
        "uid": identity["uid"] if identity is not None else headers.get("uid"),
        "pubkey": key,
        "identity_hash": hash_hex(document.identity),
        "hash": hash_hex(document.hash),
        "signature_valid": signature_valid,
        "identity_status": None if identity is None else identity["status"],
        "pending": pending,
    }


@revocation.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_verify(ctx: WalletContext, path: Path) -> None:
    """Check the revocation in PATH: readable, signed, for an identity the node knows and that is
    not revoked yet (exit 3 and why otherwise). Needs no key; publishes nothing."""
    document, headers = read_revocation(
        read_bounded(path, MAX_REVOCATION_FILE, "a revocation file"), str(path)
    )
    result = {"file": str(path), **verify_revocation(ctx.client(), document, headers)}
    lines = [
        f"uid      : {result['uid'] or '—'}",
        f"key      : {result['pubkey']}",
        f"currency : {result['currency']}",
        f"identity : {result['identity_hash']}",
        f"signature: {'valid' if result['signature_valid'] else 'INVALID'}",
    ]
    if result["pending"]:
        lines.append("already sent: it waits in the node's pool for a block")
    lines += [f"✗ {problem}" for problem in result["problems"]]
    if result["valid"]:
        lines.append("✓ this revocation would be accepted: keep it safe")
    emit(ctx, result, "\n".join(lines))
    if not result["valid"]:
        raise ProblemsFound(f"{path} cannot revoke: {result['problems'][0]}")


@wot.command()
@json_option
@click.pass_obj
def revoke(ctx: WalletContext) -> None:
    """Revoke your identity now, for good (creates the revocation and publishes it; needs your key)."""
    client = ctx.client()
    identity = _own_identity(ctx, client)
    if not ctx.assume_yes:
        click.confirm(
            f"Revoke {identity['uid']} for good? It can never be a member again; this cannot be undone.",
            abort=True,
            err=True,
        )
    document, identity, head = _own_revocation(ctx, client, identity)
    answer = submit(client, document.to_bytes(), head.median_time)
    report(ctx, answer, "revocation", f"revocation of {identity['uid']!r}", head.median_time)


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
