"""`june wot revocation create|publish|verify` and `june wot revoke`: revoking an identity for good.

The file format is `wallet.revocation_file`: created private (0600) and never overwritten; `verify`
checks a file against the node without the key, so a member can trust the copy they keep.
"""

from pathlib import Path
from typing import Any

import click

from protocol.crypto import hash_hex, parse_hash_hex
from protocol.documents import Revocation
from protocol.keys import pubkey_display, pubkey_to_base58
from wallet.client import NodeClient, Refused
from wallet.commands.check import ProblemsFound
from wallet.commands.submission import Head, head_of, report, submit
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.files import read_bounded, write_private_file
from wallet.i18n import _
from wallet.options import json_option
from wallet.render import emit, moment
from wallet.revocation_file import MAX_REVOCATION_FILE, read_revocation, revocation_text


def _own_identity(ctx: WalletContext, client: NodeClient) -> dict[str, Any]:
    try:
        identity: dict[str, Any] = client.get(f"/identities/{pubkey_to_base58(ctx.public_key())}")
    except Refused as exc:
        if exc.status == 404:
            raise WalletError(_("you have no published identity to revoke")) from None
        raise
    if identity["identity_hash"] is None:
        raise WalletError(_("you have no published identity to revoke"))
    return identity


def _own_revocation(
    ctx: WalletContext, client: NodeClient, identity: dict[str, Any] | None = None
) -> tuple[Revocation, dict[str, Any], Head]:
    """A revocation of the account's identity, signed (the passphrase is asked here)."""
    head = head_of(client)
    identity = identity or _own_identity(ctx, client)
    if identity["status"] == "revoked":
        raise WalletError(_("{uid} is already revoked").format(uid=identity["uid"]))
    document = Revocation.create(ctx.keypair(), head.currency, parse_hash_hex(identity["identity_hash"]))
    return document, identity, head


@click.group(
    help=_(
        "Revoke your identity for good: create the document now, keep it offline, publish it if "
        "your key is lost or stolen."
    ),
)
def revocation() -> None:
    pass


@revocation.command(
    "create",
    help=_("Write a signed revocation of your identity to PATH: text, private (0600), never overwritten."),
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_create(ctx: WalletContext, path: Path) -> None:
    client = ctx.client()
    if path.exists():
        raise InputError(_("{path} already exists; June never overwrites it").format(path=path))
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
        _(
            "Revocation of {uid} written to {path}: keep it offline, private and safe.\n"
            "Check it any time with: june wot revocation verify {path}"
        ).format(uid=repr(identity["uid"]), path=path),
    )


def _describe_file(document: Revocation, headers: dict[str, str]) -> str:
    uid = headers.get("uid")
    key = pubkey_display(document.issuer)
    return f"{uid} ({key})" if uid else key


@revocation.command(
    "publish",
    help=_("Publish the revocation kept in PATH (no key needed: it is already signed)."),
)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_publish(ctx: WalletContext, path: Path) -> None:
    client = ctx.client()
    document, headers = read_revocation(
        read_bounded(path, MAX_REVOCATION_FILE, "a revocation file"), str(path)
    )
    named = _describe_file(document, headers)
    if not ctx.assume_yes:
        click.confirm(
            _("Revoke {who} for good? It can never be a member again.").format(who=named),
            abort=True,
            err=True,
        )
    now = head_of(client).median_time
    answer = submit(client, document.to_bytes(), now)
    report(ctx, answer, "revocation", _("revocation of {who}").format(who=named), now)


def verify_revocation(client: NodeClient, document: Revocation, headers: dict[str, str]) -> dict[str, Any]:
    """Whether a revocation would be accepted now: its signature, that its header agrees with it,
    and, on the node, the currency and an identity with that hash, not revoked yet. `problems`
    lists what is wrong, in words; empty when the file is good."""
    problems: list[str] = []
    key = pubkey_display(document.issuer)
    signature_valid = document.is_signature_valid()
    if not signature_valid:
        problems.append(_("the signature does not verify: the file is damaged, or not signed by this key"))
    declared = {
        "currency": document.currency,
        "public key": key,
        "identity hash": hash_hex(document.identity),
    }
    for name, value in declared.items():
        shown = headers.get(name)
        if shown is not None and (shown.upper() if name == "identity hash" else shown) != value:
            problems.append(
                _("the header says {name} {shown}, the signed document {value}").format(
                    name=name, shown=repr(shown), value=repr(value)
                )
            )
    head = head_of(client)
    if head.currency != document.currency:
        problems.append(
            _("the document is for the currency {theirs}, the node's is {ours}").format(
                theirs=repr(document.currency), ours=repr(head.currency)
            )
        )
    identity: dict[str, Any] | None = None
    try:
        identity = client.get(f"/identities/{pubkey_to_base58(document.issuer)}")
    except Refused as exc:
        if exc.status != 404:
            raise
        problems.append(_("the node knows no identity of the key {key}").format(key=key))
    pending = False
    if identity is not None:
        if str(identity["identity_hash"]).upper() != hash_hex(document.identity):
            problems.append(
                _(
                    "the identity of {key} on the node ({uid}, {hash}) is not the one this document revokes"
                ).format(key=key, uid=identity["uid"], hash=identity["identity_hash"])
            )
        elif identity["status"] == "revoked":
            when = moment(identity["revoked_on"], head.median_time)
            problems.append(_("{uid} is already revoked ({moment})").format(uid=identity["uid"], moment=when))
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


@revocation.command(
    "verify",
    help=_(
        "Check the revocation in PATH: readable, signed, for an identity the node knows and that "
        "is not revoked yet (exit 3 and why otherwise). Needs no key; publishes nothing."
    ),
)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def revocation_verify(ctx: WalletContext, path: Path) -> None:
    document, headers = read_revocation(
        read_bounded(path, MAX_REVOCATION_FILE, "a revocation file"), str(path)
    )
    result = {"file": str(path), **verify_revocation(ctx.client(), document, headers)}
    rows = [
        (_("uid"), result["uid"] or "—"),
        (_("key"), result["pubkey"]),
        (_("currency"), result["currency"]),
        (_("identity"), result["identity_hash"]),
        (_("signature"), _("valid") if result["signature_valid"] else _("INVALID")),
    ]
    width = max(len(label) for label, _value in rows)
    lines = [f"{label.ljust(width)}: {value}" for label, value in rows]
    if result["pending"]:
        lines.append(_("already sent: it waits in the node's pool for a block"))
    lines += [f"✗ {problem}" for problem in result["problems"]]
    if result["valid"]:
        lines.append("✓ " + _("this revocation would be accepted: keep it safe"))
    emit(ctx, result, "\n".join(lines))
    if not result["valid"]:
        raise ProblemsFound(
            _("{path} cannot revoke: {problem}").format(path=path, problem=result["problems"][0])
        )


@click.command(
    help=_("Revoke your identity now, for good (creates the revocation and publishes it; needs your key)."),
)
@json_option
@click.pass_obj
def revoke(ctx: WalletContext) -> None:
    client = ctx.client()
    identity = _own_identity(ctx, client)
    if not ctx.assume_yes:
        click.confirm(
            _("Revoke {uid} for good? It can never be a member again; this cannot be undone.").format(
                uid=identity["uid"]
            ),
            abort=True,
            err=True,
        )
    document, identity, head = _own_revocation(ctx, client, identity)
    answer = submit(client, document.to_bytes(), head.median_time)
    report(
        ctx,
        answer,
        "revocation",
        _("revocation of {who}").format(who=repr(identity["uid"])),
        head.median_time,
    )
