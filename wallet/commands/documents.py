"""What became of the documents you sent: one way to say a node's answer, and `june document`.

A node that acknowledged a document keeps it until it is written or can never be; it may have to
wait (the issuer's certification period, a time lock, a payment it spends still pending). The
wallet says so when it sends, with the hash to ask about later; `june document HASH` asks again.
"""

from typing import Any

import click

from wallet.context import WalletContext
from wallet.errors import InputError
from wallet.i18n import N_, _
from wallet.options import json_option
from wallet.render import emit, humanize, moment


def _when(timestamp: int | None, now: int | None) -> str:
    return moment(timestamp, now) if timestamp else ""


def _reason(reason: Any, now: int | None) -> str:
    return humanize(str(reason), now)


def describe_answer(answer: dict[str, Any], now: int | None = None) -> str:
    """A node's answer to a submission, in words: accepted, known, or waiting (why, until when).
    Times read as moments from `now`, the chain's median time, when given."""
    result = str(answer["result"])
    if result == "waiting":
        return _waiting(answer, now)
    return _(result) if result in ANSWERS else result


def describe_status(status: dict[str, Any], now: int | None = None) -> str:
    """A node's `GET /documents/{hash}` answer, in words (times as moments from `now`)."""
    state = str(status["state"])
    if state == "written":
        return _("written in block #{number}").format(number=status["block"])
    if state == "pending":
        expires = _when(status.get("expires"), now)
        said = _("pending: valid, waiting for a block")
        return said + (_(" (or void after {moment})").format(moment=expires) if expires else "")
    if state == "waiting":
        return _waiting(status, now)
    if state == "dropped":
        return _("dropped: {reason}").format(reason=_reason(status.get("reason"), now))
    return _("unknown to this node (never sent here, or forgotten long ago)")


def _waiting(answer: dict[str, Any], now: int | None) -> str:
    """Waiting: the node's reason (in its words), and from when the document becomes valid."""
    until = _when(answer.get("until"), now)
    said = _("waiting: {reason}").format(reason=_reason(answer.get("reason"), now))
    return said + (_(" (valid from {moment})").format(moment=until) if until else "")


#: A node's answers to a submission, as the wallet says them.
ANSWERS = (N_("accepted"), N_("known"))


def chain_time(client: Any) -> int | None:
    """The head's median time, the present every rule (and every moment shown) is measured from."""
    head = client.get("/node").get("head")
    return None if head is None else int(head["median_time"])


def follow_hint(hashes: list[str]) -> str:
    return _("follow it with: june document {hashes}").format(hashes=" ".join(hashes)) if hashes else ""


@click.command(
    help=_(
        "What became of documents you sent (by hash; a prefix names a document still pending): "
        "pending, waiting (why, until when), written in block N, or dropped (why)."
    )
)
@click.argument("hashes", nargs=-1, required=True)
@json_option
@click.pass_obj
def document(ctx: WalletContext, hashes: tuple[str, ...]) -> None:
    """Ask the node about each document, by whole hash or pending prefix."""
    client = ctx.client()
    statuses = [client.get(f"/documents/{_full_hash(client, h)}") for h in hashes]
    now = None if ctx.json else chain_time(client)
    emit(
        ctx,
        {"documents": statuses},
        "\n".join(f"{s['hash'][:16]}…  {describe_status(s, now)}" for s in statuses),
    )


def _full_hash(client: Any, text: str) -> str:
    """A hash as typed: whole (64 hexadecimal characters), or a prefix of a document still pending."""
    text = text.strip().lower()
    if len(text) == 64:
        return text
    matches = [p["hash"] for p in client.get("/pending") if str(p["hash"]).startswith(text)]
    if len(matches) == 1:
        return str(matches[0])
    if matches:
        raise InputError(
            _("{text} matches several pending documents: give the whole hash (64 characters)").format(
                text=repr(text)
            )
        )
    raise InputError(
        _("{text} starts no pending document's hash: give the whole hash (64 characters)").format(
            text=repr(text)
        )
    )
