"""Reads about a key's money: the sources it can spend, and its history (see `node.api.history`)."""

from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from node.api.chain import context
from node.api.context import ApiContext
from node.api.convert import key_text, parse_key, source_json
from node.api.history import read_history
from protocol.amounts import format_cents
from protocol.conditions import sig_condition
from protocol.crypto import PublicKey

router = APIRouter(tags=["money"])
Key = Annotated[str, Path(description="A public key (base58, optionally with :checksum)")]
#: The most blocks one history request may scan (about a second of reads on a large chain).
MAX_SCAN = 200_000
#: The most sources one answer lists (a member holding years of UDs pages through them).
MAX_SOURCES = 5_000


@router.get(
    "/sources/{key}",
    summary="What a key can spend alone now: UDs and outputs locked by SIG(key), on the head as the "
    "pending transactions leave it (spent ones out, pending outputs in)",
)
async def sources(
    request: Request,
    key: Key,
    limit: Annotated[int, Query(ge=1, le=MAX_SOURCES, description="Sources listed at most")] = MAX_SOURCES,
    skip: Annotated[
        int, Query(ge=0, description="Sources skipped first (UDs oldest first, then outputs)")
    ] = 0,
) -> dict[str, Any]:
    """The balance is the state's running total (no scan); the sources are listed a page at a time,
    largest first within the page, `more` saying whether the account holds more."""
    api = context(request)
    public_key = parse_key(key)
    condition = sig_condition(public_key)
    view = api.mempool.spending_view()
    listed = []
    page = list(islice(view.sources_of(condition), skip, skip + limit + 1))
    for source_id in page[:limit]:
        record = view.source(source_id)
        if record is not None:
            listed.append(source_json(source_id, record.amount, record.base, record.conditions))
    listed.sort(key=lambda s: (-s["cents"], s.get("block", 0)))
    balance = account_balance(api, public_key)
    return {
        "pubkey": key_text(public_key),
        "balance": balance,
        "balance_text": format_cents(balance),
        "sources": listed,
        "more": len(page) > limit,
    }


@router.get(
    "/history/{key}",
    summary="Payments sent and received, consolidations, UDs and money destroyed by the 1-unit rule, "
    "newest first, over the last `scan` blocks at most; `names`: the uids of the keys named",
)
async def history(
    request: Request,
    key: Key,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    scan: Annotated[int, Query(ge=1, le=MAX_SCAN)] = 20_000,
) -> dict[str, Any]:
    return await history_of(context(request), parse_key(key), limit=limit, scan=scan)


def account_balance(api: ApiContext, key: PublicKey) -> int:
    """What `key` can spend alone now, in cents: the state's running total as the pool's pending
    transactions leave it (`GET /sources`' balance, and the web interface's account page)."""
    balance: int = api.mempool.spending_view().balance(sig_condition(key))
    return balance


async def history_of(api: ApiContext, public_key: PublicKey, *, limit: int, scan: int) -> dict[str, Any]:
    """`GET /history/{key}`'s answer (and the web interface's account page)."""
    page = await read_history(api.store, public_key, limit=limit, scan=scan)
    return {
        "pubkey": key_text(public_key),
        "history": page.entries,
        "names": page.names,
        "scanned_from": page.lowest,
        "scanned_to": page.highest,
    }
