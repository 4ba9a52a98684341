"""Reads about money: the sources a key can spend, and its history.

History is read from the blocks, newest first, over at most `scan` blocks (default 20,000): the
store keeps no per-key index of past transactions, so the cost is one block decode per block
scanned. UDs received are the key's UD sources still unspent plus those its own transactions spent.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from node.api.chain import context
from node.api.convert import cents_text, key_text, parse_key, source_json
from protocol.conditions import sig_condition
from protocol.crypto import hash_hex
from protocol.documents import DividendSource, Transaction

router = APIRouter(tags=["money"])
Key = Annotated[str, Path(description="A public key (base58, optionally with :checksum)")]
MAX_SCAN = 200_000


@router.get(
    "/sources/{key}",
    summary="What a key can spend alone now: UDs and outputs locked by SIG(key), on the head as the "
    "pending transactions leave it (spent ones out, pending outputs in)",
)
async def sources(request: Request, key: Key) -> dict[str, Any]:
    api = context(request)
    public_key = parse_key(key)
    condition = sig_condition(public_key)
    view = api.mempool.spending_view()
    listed = []
    for source_id in view.sources_of(condition):
        record = view.source(source_id)
        if record is not None:
            listed.append(source_json(source_id, record.amount, record.base, record.conditions))
    listed.sort(key=lambda s: (-s["cents"], s.get("block", 0)))
    balance = sum(s["cents"] for s in listed)
    return {
        "pubkey": key_text(public_key),
        "balance": balance,
        "balance_text": cents_text(balance),
        "sources": listed,
    }


def _received(tx: Transaction, condition: str) -> int:
    return sum(o.amount * 10**o.base for o in tx.outputs if o.condition == condition)


@router.get("/history/{key}", summary="Payments sent and received, and UDs, newest first")
async def history(
    request: Request,
    key: Key,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    scan: Annotated[int, Query(ge=1, le=MAX_SCAN)] = 20_000,
) -> dict[str, Any]:
    api = context(request)
    public_key = parse_key(key)
    condition = sig_condition(public_key)
    pointer = api.store.head_pointer()
    entries: list[dict[str, Any]] = []
    dividends: dict[int, int] = {}
    lowest = -1 if pointer is None else max(-1, pointer[0] - scan)
    number = -1 if pointer is None else pointer[0]
    while number > lowest and len(entries) < limit:
        block = api.store.block(number)
        number -= 1
        if block is None:
            continue
        for tx in block.transactions:
            incoming = _received(tx, condition)
            if public_key in tx.issuers:
                for spent in tx.inputs:
                    if isinstance(spent.source, DividendSource) and spent.source.member == public_key:
                        dividends[spent.source.block_number] = spent.amount * 10**spent.base
                sent = sum(o.amount * 10**o.base for o in tx.outputs) - incoming
                kind, amount = "sent", -sent
                others = sorted({o.condition for o in tx.outputs if o.condition != condition})
            elif incoming:
                kind, amount = "received", incoming
                others = [key_text(k) for k in tx.issuers]
            else:
                continue
            entries.append(
                {
                    "kind": kind,
                    "block": block.number,
                    "time": block.median_time,
                    "tx": hash_hex(tx.hash),
                    "amount": amount,
                    "amount_text": cents_text(amount),
                    "counterparts": others,
                    "comment": tx.comment,
                }
            )
    for source_id in api.store.sources_of(condition):
        record = api.store.source(source_id)
        if record is not None and isinstance(source_id, DividendSource):
            dividends[source_id.block_number] = record.amount * 10**record.base
    for block_number, cents in dividends.items():
        summary = api.store.block_summary(block_number)
        entries.append(
            {
                "kind": "dividend",
                "block": block_number,
                "time": None if summary is None else summary.median_time,
                "tx": None,
                "amount": cents,
                "amount_text": cents_text(cents),
                "counterparts": [],
                "comment": "",
            }
        )
    entries.sort(key=lambda e: (e["block"], e["kind"] != "dividend"), reverse=True)
    return {"pubkey": key_text(public_key), "history": entries[:limit], "scanned_from": lowest + 1}
