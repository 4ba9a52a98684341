"""`june blocks` and `june difficulty`: the chain as a member watches it (Silkaj's `blocks` and
`difficulty`).

Issuers are shown by uid when they have an identity, else by a shortened key (whole with
`--full-pubkey`); each key is looked up once per command. `--json` gives the node's own JSON.
"""

from typing import Any

import click
from rich.table import Table

from protocol.amounts import format_cents
from wallet.client import NodeClient, Refused
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.i18n import _
from wallet.options import json_option
from wallet.render import console, date, emit

#: The node's largest page of `GET /blocks`.
PAGE = 100
#: Most blocks one command shows.
MAX_BLOCKS = 5000
DEFAULT_BLOCKS = 20


class Names:
    """Issuers' uids, each key asked about once per command."""

    def __init__(self, client: NodeClient, full_pubkey: bool) -> None:
        self.client = client
        self.full_pubkey = full_pubkey
        self._uids: dict[str, str | None] = {}

    def uid(self, pubkey: str) -> str | None:
        if pubkey not in self._uids:
            try:
                self._uids[pubkey] = self.client.get(f"/identities/{pubkey.partition(':')[0]}")["uid"]
            except Refused as exc:
                if exc.status != 404:
                    raise
                self._uids[pubkey] = None
        return self._uids[pubkey]

    def key(self, pubkey: str) -> str:
        """`base58:CHK` whole, or shortened to `first8…:CHK`."""
        if self.full_pubkey:
            return pubkey
        encoded, _, check = pubkey.partition(":")
        return f"{encoded[:8]}…:{check}" if check else f"{encoded[:8]}…"

    def name(self, pubkey: str | None, uid: str | None = None) -> str:
        if pubkey is None:
            return uid or "—"
        return uid or self.uid(pubkey) or self.key(pubkey)


def fetch_blocks(client: NodeClient, start: int, count: int) -> list[dict[str, Any]]:
    """Blocks `start` … `start + count - 1` (fewer past the head), a page of the node at a time."""
    blocks: list[dict[str, Any]] = []
    while len(blocks) < count:
        size = min(PAGE, count - len(blocks))
        page: list[dict[str, Any]] = client.get("/blocks", **{"from": start + len(blocks), "count": size})
        blocks.extend(page)
        if len(page) < size:
            break
    return blocks


@click.command(
    help=_("The latest blocks (or those from a number on): time, issuer, members, UD, documents."),
)
@click.option(
    "--last", "last", type=click.IntRange(1, MAX_BLOCKS), help=_("The latest N blocks [default 20].")
)
@click.option("--from", "start", type=click.IntRange(min=0), help=_("Blocks from this number on."))
@click.option(
    "--limit", type=click.IntRange(1, MAX_BLOCKS), help=_("How many blocks from --from [default 20].")
)
@json_option
@click.pass_obj
def blocks(ctx: WalletContext, last: int | None, start: int | None, limit: int | None) -> None:
    if last is not None and start is not None:
        raise click.UsageError(_("choose --last or --from, not both"))
    if last is not None and limit is not None:
        raise click.UsageError(_("--limit goes with --from; --last already says how many"))
    client = ctx.client()
    head = client.get("/node")["head"]
    if head is None:
        raise WalletError(_("the node has no chain yet"))
    if start is None:
        count = last or limit or DEFAULT_BLOCKS
        start = max(0, head["number"] - count + 1)
    else:
        count = limit or DEFAULT_BLOCKS
        if start > head["number"]:
            raise InputError(
                _("block #{number} is past the head, #{head}").format(number=start, head=head["number"])
            )
    found = fetch_blocks(client, start, count)
    if ctx.json:
        emit(ctx, {"blocks": found}, "")
        return
    names = Names(client, ctx.full_pubkey)
    table = Table(
        title=_("blocks #{first}–#{last} (head #{head})").format(
            first=start, last=start + len(found) - 1, head=head["number"]
        )
    )
    columns = ("#", _("time"), _("issuer"), "N", _("UD"), _("idty"), _("cert"), _("join"), "tx")
    for number, column in enumerate(columns):
        table.add_column(column, justify="left" if number in (1, 2) else "right", no_wrap=True)
    table.caption = _("N: members; documents written: identities, certifications, joiners, transactions")
    for block in reversed(found):
        dividend = block["dividend"]
        table.add_row(
            str(block["number"]),
            date(block["time"]),
            names.name(block["issuer"]),
            str(block["members_count"]),
            "" if dividend is None else format_cents(dividend * 10 ** block["unit_base"]),
            str(len(block["identities"])),
            str(len(block["certifications"])),
            str(len(block["joiners"])),
            str(len(block["transactions"])),
        )
    console().print(table)


def hash_pattern(difficulty: int) -> str:
    """What a block hash must start with at this difficulty: `zeros` '0's, then a digit ≤ F − rest."""
    zeros, rest = divmod(difficulty, 16)
    return "0" * zeros + f"[0-{15 - rest:X}]"


@click.command(
    help=_("The proof-of-work each member forging the next block must find (their personalised difficulty)."),
)
@json_option
@click.pass_obj
def difficulty(ctx: WalletContext) -> None:
    client = ctx.client()
    try:
        answer: dict[str, Any] = client.get("/difficulties")
    except Refused as exc:
        if exc.status == 404:
            raise WalletError(_("this node does not serve GET /difficulties: it needs an update")) from None
        raise
    if ctx.json:
        emit(ctx, answer, "")
        return
    names = Names(client, ctx.full_pubkey)
    rows = sorted(answer["difficulties"], key=lambda row: (row["difficulty"], row["uid"] or row["pubkey"]))
    table = Table(
        title=_("difficulties for block #{number} (PoW min {minimum})").format(
            number=answer["block"], minimum=answer["pow_min"]
        )
    )
    columns = (_("member"), _("difficulty"), _("zeros"), _("rest"), _("hash starts"), _("blocks in frame"))
    for number, column in enumerate(columns):
        table.add_column(column, justify="left" if number in (0, 4) else "right")
    for row in rows:
        zeros, rest = divmod(row["difficulty"], 16)
        table.add_row(
            names.name(row["pubkey"], row["uid"]),
            str(row["difficulty"]),
            str(zeros),
            str(rest),
            hash_pattern(row["difficulty"]),
            str(row["blocks_in_frame"]),
        )
    console().print(table)
