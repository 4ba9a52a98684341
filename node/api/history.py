"""A key's history read from the blocks: the store keeps no per-key index of past transactions, and
the API must not change its schema, so the history is a bounded scan, newest block first.

Cost: one LevelDB read per block scanned, plus a byte search for the key (as its 32 raw bytes, how
a transaction's issuers are written) or for its `SIG(…)` condition text (how an output to it is
written); only blocks that hold one of them are decoded. The scan yields to the node's event loop
every `YIELD_EVERY` blocks, so a long one does not stall the node; if the chain is reorganised
under it, it starts again (a few times, then gives up with a 503).

UDs are not written in blocks: those received are the key's UD sources still unspent plus those
its own transactions spent, counted only down to the lowest block scanned, so the window answered
is complete. Money the 1-unit rule destroyed (BR_G106) is not written in blocks either: the store
indexes it as blocks are applied (`LevelStore.destroyed`), and it is listed within the window.

Counterparts are written as keys (`base58:CHK`) when an output is a plain `SIG(key)`, as the
condition otherwise; `names` gives the uid of every key named that has a written identity.
"""

from dataclasses import dataclass, field
from typing import Any

from node.api.convert import counterpart_text, key_text
from node.api.errors import ApiError
from node.api.pace import take_turn
from node.store import LevelStore
from protocol.amounts import format_cents
from protocol.conditions import sig_condition
from protocol.crypto import PublicKey, hash_hex
from protocol.documents import DividendSource, Transaction
from protocol.errors import InvalidKey
from protocol.keys import parse_pubkey

YIELD_EVERY = 256
ATTEMPTS = 3
#: Newest first within a block: what the rules do last comes first (BR_G106 runs after the
#: transactions; UDs are listed after them, as before).
ORDER_IN_BLOCK = {"destroyed": 2, "dividend": 0}


@dataclass
class HistoryPage:
    """Entries newest first over the blocks `lowest..highest`, complete for that window."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    lowest: int = 0
    highest: int = -1
    #: `base58:CHK` → uid of the keys named by the entries (and the account) that have an identity.
    names: dict[str, str] = field(default_factory=dict)


def _entry(kind: str, block: int, time: int | None, amount: int, **rest: Any) -> dict[str, Any]:
    entry = {"kind": kind, "block": block, "time": time, "tx": None, "amount": amount}
    entry |= {"amount_text": format_cents(amount), "counterparts": [], "comment": ""}
    return entry | rest


def transaction_entry(tx: Transaction, key: PublicKey, condition: str) -> dict[str, Any] | None:
    """What `tx` did for `key`: sent (the outputs to others, negative), received, consolidation
    (issued by the key, every output back to it: its sources merged, nothing paid), or nothing."""
    incoming = sum(o.amount * 10**o.base for o in tx.outputs if o.condition == condition)
    if key in tx.issuers:
        if all(o.condition == condition for o in tx.outputs):
            return {"kind": "consolidation", "amount": 0, "counterparts": []}
        sent = sum(o.amount * 10**o.base for o in tx.outputs) - incoming
        others = sorted({counterpart_text(o.condition) for o in tx.outputs if o.condition != condition})
        return {"kind": "sent", "amount": -sent, "counterparts": others}
    if incoming:
        return {"kind": "received", "amount": incoming, "counterparts": [key_text(k) for k in tx.issuers]}
    return None


def spent_dividends(tx: Transaction, key: PublicKey) -> dict[int, int]:
    """The key's own UDs that `tx` spends, by the number of the block that created them."""
    return {
        i.source.block_number: i.amount * 10**i.base
        for i in tx.inputs
        if isinstance(i.source, DividendSource) and i.source.member == key
    }


async def _scan(store: LevelStore, key: PublicKey, *, top: int, limit: int, scan: int) -> HistoryPage:
    """Blocks `top` down to `top - scan + 1`, until `limit` entries are found."""
    condition = sig_condition(key)
    needles = (bytes(key), condition.encode())
    page = HistoryPage(lowest=max(0, top - scan + 1), highest=top)
    dividends: dict[int, int] = {}
    for number in range(top, page.lowest - 1, -1):
        if number % YIELD_EVERY == 0:
            await take_turn()
        raw = store.block_bytes(number)
        block = store.block(number) if raw is not None and any(n in raw for n in needles) else None
        if block is None:
            continue
        for tx in block.transactions:
            if key in tx.issuers:
                dividends.update(spent_dividends(tx, key))
            found = transaction_entry(tx, key, condition)
            if found is not None:
                page.entries.append(
                    _entry(
                        block=number,
                        time=block.median_time,
                        tx=hash_hex(tx.hash),
                        comment=tx.comment,
                        **found,
                    )
                )
        if len(page.entries) >= limit:
            page.lowest = number
            break
    rights = store.rights(key)
    for start, end in () if rights is None else rights.ranges:
        for created in store.dividend_numbers(
            max(start, page.lowest), page.highest + 1 if end is None else min(end, page.highest + 1)
        ):
            record = store.dividend(created)
            if record is not None:
                dividends[created] = record.value
    for created, cents in dividends.items():
        if created >= page.lowest:
            page.entries.append(_entry("dividend", created, _median_time(store, created), cents))
    for number, cents in store.destroyed(condition, page.lowest, page.highest):
        page.entries.append(_entry("destroyed", number, _median_time(store, number), -cents))
    page.entries.sort(key=lambda e: (e["block"], ORDER_IN_BLOCK.get(e["kind"], 1)), reverse=True)
    del page.entries[limit:]
    page.names = names_of(store, [key_text(key)] + [c for e in page.entries for c in e["counterparts"]])
    return page


def _median_time(store: LevelStore, number: int) -> int | None:
    summary = store.block_summary(number)
    return None if summary is None else summary.median_time


def names_of(store: LevelStore, texts: list[str]) -> dict[str, str]:
    """`base58:CHK` → uid for each of `texts` that is a key with a written identity."""
    names = {}
    for text in texts:
        if text in names:
            continue
        try:
            key = parse_pubkey(text)
        except InvalidKey:
            continue  # a condition other than a plain SIG(key)
        record = store.identity(key)
        if record is not None:
            names[text] = record.uid
    return names


async def read_history(store: LevelStore, key: PublicKey, *, limit: int, scan: int) -> HistoryPage:
    """Up to `limit` entries of `key`'s history in the `scan` blocks down from the head, taken
    again if the chain changed under the scan."""
    for _attempt in range(ATTEMPTS):
        pointer = store.head_pointer()
        if pointer is None:
            return HistoryPage()
        page = await _scan(store, key, top=pointer[0], limit=limit, scan=scan)
        if store.block_hash(pointer[0]) == pointer[1]:
            return page
    raise ApiError(503, "the chain kept changing during the history scan; try again")
