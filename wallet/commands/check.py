"""`june check`: one command for cron, silent trouble made loud before it costs a membership.

It fails (exit code 3, the reasons on standard output) when, within the next N days (30 unless
`--days`): the member's membership ends without a renewal, fewer live certifications than sigQty
remain (certifications expire one by one, and a member below sigQty is excluded), or a document
this wallet sent (see `wallet.journal`) was dropped by the node instead of written. Otherwise it
prints one line and exits 0. Horizons are measured on the chain's clock (the head's median time),
the one the rules use; the journal's window on the wall clock of the machine that sent.

`ahead()` is shared with `june wot status`, which warns with it `WARN_DAYS` ahead.
"""

import time
from typing import Any

import click

from protocol.keys import pubkey_to_base58
from wallet.client import NodeClient, Refused
from wallet.commands.documents import chain_time
from wallet.context import WalletContext
from wallet.errors import WalletError
from wallet.i18n import _
from wallet.journal import FINAL_STATES, remember_outcome, sent_documents
from wallet.options import json_option
from wallet.render import emit, humanize, moment

DAY = 86400
#: How far ahead `june wot status` warns by itself, and `june check`'s default horizon.
WARN_DAYS = 30


class ProblemsFound(WalletError):
    """Something needs the user's attention (a check failed, a revocation file is unusable)."""

    exit_code = 3


def ahead(needs: dict[str, Any], days: int) -> list[dict[str, Any]]:
    """What will go wrong within `days` days for a member who does nothing (from
    `/wot/{who}/requirements`): the membership ending, or too few certifications still live.
    A member who sent a leave is not warned: the end is their choice."""
    membership = needs.get("membership")
    if needs.get("status") != "member" or membership is None or membership["leaving"]:
        return []
    now = int(needs["median_time"])
    horizon = now + days * DAY
    name = needs["uid"]
    problems: list[dict[str, Any]] = []
    if membership["expires_on"] <= horizon:
        problems.append(
            {
                "problem": "membership",
                "expires_on": membership["expires_on"],
                "message": _("the membership of {name} ends {moment}: renew it with `june wot renew`").format(
                    name=name, moment=moment(membership["expires_on"], now)
                ),
            }
        )
    received = needs["certifications"]["received"]
    needed = int(needs["certifications"]["needed"])
    live = [cert for cert in received if cert["expires_on"] > horizon]
    if len(live) < needed:
        soonest = sorted(cert["expires_on"] for cert in received if cert["expires_on"] <= horizon)
        problems.append(
            {
                "problem": "certifications",
                "live": len(live),
                "received": len(received),
                "needed": needed,
                "message": _(
                    "only {live} of the {received} certifications {name} received will still be live in "
                    "{days} days, {needed} are needed"
                ).format(live=len(live), received=len(received), name=name, days=days, needed=needed)
                + (
                    _(" (the next one ends {moment})").format(moment=moment(soonest[0], now))
                    if soonest
                    else ""
                )
                + _(": ask members to certify again"),
            }
        )
    return problems


def dropped(client: NodeClient, days: int, now: int | None) -> list[dict[str, Any]]:
    """Documents sent from this machine within `days` days that the node dropped. The node is
    asked only about those whose fate is not known yet; a final outcome is noted in the journal."""
    since = time.time() - days * DAY
    problems = []
    for entry in sent_documents():
        if entry["time"] < since:
            continue
        if entry.get("state") not in FINAL_STATES:
            try:
                status = client.get(f"/documents/{entry['hash']}")
            except Refused:
                continue
            remember_outcome(status)
            if status.get("state") not in FINAL_STATES:
                continue
            entry = {**entry, "state": status["state"], "reason": status.get("reason")}
        if entry["state"] == "dropped":
            reason = humanize(str(entry.get("reason")), now)
            problems.append(
                {
                    "problem": "dropped",
                    "hash": entry["hash"],
                    "kind": entry["kind"],
                    "label": entry["label"],
                    "sent": entry["time"],
                    "reason": entry.get("reason"),
                    "message": _("{label} ({hash}…) was dropped by the node: {reason}").format(
                        label=entry["label"], hash=entry["hash"][:16], reason=reason
                    ),
                }
            )
    return problems


@click.command(
    help=_(
        "For cron: exit 0 when nothing needs you within N days, else 3 with the reasons "
        "(membership ending, certifications running out, a document you sent dropped). WHO: "
        "default you."
    ),
)
@click.argument("who", required=False)
@click.option(
    "--days",
    default=WARN_DAYS,
    show_default=True,
    type=click.IntRange(min=0, max=3650),
    help=_("How many days ahead to look."),
)
@json_option
@click.pass_obj
def check(ctx: WalletContext, who: str | None, days: int) -> None:
    client = ctx.client()
    who = who or pubkey_to_base58(ctx.public_key())
    try:
        needs: dict[str, Any] | None = client.get(f"/wot/{who}/requirements")
    except Refused as exc:
        if exc.status != 404:
            raise
        needs = None  # no identity: only the documents sent can go wrong
    now = int(needs["median_time"]) if needs is not None else chain_time(client)
    problems = (ahead(needs, days) if needs is not None else []) + dropped(client, days, now)
    name = who if needs is None else needs["uid"]
    data = {"ok": not problems, "who": name, "days": days, "problems": problems}
    if problems:
        emit(ctx, data, "\n".join(f"• {problem['message']}" for problem in problems))
        raise ProblemsFound(
            _("{count} thing(s) need attention within {days} days").format(count=len(problems), days=days)
        )
    emit(
        ctx,
        data,
        _("all good: nothing needs attention for {name} within {days} days").format(name=name, days=days),
    )
