"""What became of the documents you sent: one way to say a node's answer, and `june document`.

A node that acknowledged a document keeps it until it is written or can never be; it may have to
wait (the issuer's certification period, a time lock, a payment it spends still pending). The
wallet says so when it sends, with the hash to ask about later; `june document HASH` asks again.
"""

from typing import Any

import click

from wallet.context import WalletContext
from wallet.errors import InputError
from wallet.options import json_option
from wallet.render import date, emit


def _when(timestamp: int | None) -> str:
    return f"{date(timestamp)} UTC" if timestamp else ""


def describe_answer(answer: dict[str, Any]) -> str:
    """A node's answer to a submission, in words: accepted, known, or waiting (why, until when)."""
    result = str(answer["result"])
    if result == "waiting":
        until = _when(answer.get("until"))
        return f"waiting: {answer.get('reason')}" + (f" (valid from {until})" if until else "")
    return result


def describe_status(status: dict[str, Any]) -> str:
    """A node's `GET /documents/{hash}` answer, in words."""
    state = str(status["state"])
    if state == "written":
        return f"written in block #{status['block']}"
    if state == "pending":
        expires = _when(status.get("expires"))
        return "pending: valid, waiting for a block" + (f" (or void after {expires})" if expires else "")
    if state == "waiting":
        until = _when(status.get("until"))
        return f"waiting: {status.get('reason')}" + (f" (valid from {until})" if until else "")
    if state == "dropped":
        return f"dropped: {status.get('reason')}"
    return "unknown to this node (never sent here, or forgotten long ago)"


def follow_hint(hashes: list[str]) -> str:
    return "follow it with: june document " + " ".join(hashes) if hashes else ""


@click.command()
@click.argument("hashes", nargs=-1, required=True)
@json_option
@click.pass_obj
def document(ctx: WalletContext, hashes: tuple[str, ...]) -> None:
    """What became of documents you sent (by hash; a prefix names a document still pending):
    pending, waiting (why, until when), written in block N, or dropped (why)."""
    client = ctx.client()
    statuses = [client.get(f"/documents/{_full_hash(client, h)}") for h in hashes]
    emit(
        ctx,
        {"documents": statuses},
        "\n".join(f"{s['hash'][:16]}…  {describe_status(s)}" for s in statuses),
    )


def _full_hash(client: Any, text: str) -> str:
    """A hash as typed: whole (64 hexadecimal characters), or a prefix of a document still pending."""
    text = text.strip().lower()
    if len(text) == 64:
        return text
    matches = [p["hash"] for p in client.get("/pending") if str(p["hash"]).startswith(text)]
    if len(matches) == 1:
        return str(matches[0])
    reason = "matches several pending documents" if matches else "starts no pending document's hash"
    raise InputError(f"{text!r} {reason}: give the whole hash (64 characters)")
