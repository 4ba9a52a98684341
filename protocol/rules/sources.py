"""Every change to money in the state, in one place: outputs, spends, UDs, rights, destruction.

Transaction outputs are records (`SOURCE`) counted in their account's running total (`ACCOUNT`).
A UD is written once per block (`DIVIDEND`); what each member may spend of them is the member's
`RIGHTS`: ranges of blocks opened when it becomes a member, closed when it stops being one, cut
when it spends or loses UDs. So a UD block costs one write and a balance two reads per range,
whatever the number of members or of sources held (docs/state.md).
"""

from protocol.crypto import PublicKey
from protocol.documents import Block, DividendSource, TransactionSource
from protocol.state.delta import Delta
from protocol.state.overlay import Overlay
from protocol.state.records import (
    AccountRecord,
    BlockRange,
    DividendRecord,
    DividendRights,
    SourceRecord,
    in_range,
)
from protocol.state.tables import ACCOUNT, DIVIDEND, RIGHTS, SOURCE
from protocol.state.view import StateView


def create_output(state: Overlay, source: TransactionSource, record: SourceRecord) -> None:
    state.write(SOURCE, source, record)
    _count(state, record.conditions, record.value, 1)


def consume(state: Overlay, source_id: DividendSource | TransactionSource, record: SourceRecord) -> None:
    """Spend an existing source (`record` is what `state.source(source_id)` answered)."""
    if isinstance(source_id, TransactionSource):
        state.write(SOURCE, source_id, None)
        _count(state, record.conditions, -record.value, -1)
        return
    rights = state.rights(source_id.member)
    assert rights is not None  # the source exists, so its rights do
    number = source_id.block_number
    ranges: list[BlockRange] = []
    for start, end in rights.ranges:
        if in_range((start, end), number):
            if _holds_dividends(state, start, number):
                ranges.append((start, number))
            if end is None or _holds_dividends(state, number + 1, end):
                ranges.append((number + 1, end))
        else:
            ranges.append((start, end))
    _set_rights(state, source_id.member, ranges)


def _count(state: Overlay, conditions: str, cents: int, sources: int) -> None:
    account = state.account(conditions)
    total = (0, 0) if account is None else (account.cents, account.sources)
    after = AccountRecord(total[0] + cents, total[1] + sources)
    state.write(ACCOUNT, conditions, None if after.sources == 0 else after)


def _holds_dividends(view: StateView, start: int, stop: int) -> bool:
    return next(iter(view.dividend_numbers(start, stop)), None) is not None


def _set_rights(state: Overlay, key: PublicKey, ranges: list[BlockRange]) -> None:
    state.write(RIGHTS, key, DividendRights(tuple(ranges)) if ranges else None)


def open_rights(state: Overlay, key: PublicKey, number: int) -> None:
    """`key` becomes a member in block `number`: it receives the UDs from this block on."""
    rights = state.rights(key)
    if rights is not None and rights.is_open:
        return
    _set_rights(state, key, [*(() if rights is None else rights.ranges), (number, None)])


def close_rights(state: Overlay, key: PublicKey, number: int) -> None:
    """`key` stops being a member in block `number`, before its UD: it receives no more."""
    rights = state.rights(key)
    if rights is None or not rights.is_open:
        return
    *held, (start, _end) = rights.ranges
    ranges = list(held)
    if _holds_dividends(state, start, number):
        ranges.append((start, number))
    _set_rights(state, key, ranges)


def create_dividend(state: Overlay, number: int, amount: int, base: int, median_time: int) -> None:
    """The UD of block `number`, for every member at once (BR_G91): one record, whatever N."""
    last = state.last_dividend(number - 1)
    total = (0 if last is None else last[1].total) + amount * 10**base
    state.write(DIVIDEND, number, DividendRecord(amount, base, median_time, total))


def destroy_account(state: Overlay, conditions: str, owner: PublicKey | None, number: int) -> None:
    """Every source of the account goes (BR_G106): its outputs, and the UDs its owner holds so far
    (a member keeps receiving the next ones)."""
    for source in list(state.transaction_sources_of(conditions)):
        state.write(SOURCE, source, None)
    state.write(ACCOUNT, conditions, None)
    if owner is not None:
        rights = state.rights(owner)
        if rights is not None:
            _set_rights(state, owner, [(number + 1, None)] if rights.is_open else [])


def destroyed_by_block(before: StateView, block: Block, delta: Delta) -> dict[str, int]:
    """Cents each account lost to the 1-unit rule (BR_G106) in `block`, by condition text: what
    it held before, plus what the block paid it, minus what the block spent from it, minus what it
    holds after. Only accounts the block's transactions touch can lose money. `before` is the
    state before the block, `delta` the block's."""
    if not block.transactions:
        return {}
    after = Overlay(before, block.number)
    for table, key, _old, new in delta.rows():
        after.write_named(table, key, new)
    created = {
        TransactionSource(tx.hash, index): (output.condition, output.amount * 10**output.base)
        for tx in block.transactions
        for index, output in enumerate(tx.outputs)
    }
    flows: dict[str, int] = {}
    for tx in block.transactions:
        for tx_input in tx.inputs:
            source = before.source(tx_input.source)
            if source is not None:
                spent: tuple[str, int] | None = (source.conditions, source.value)
            elif isinstance(tx_input.source, TransactionSource):
                spent = created.get(tx_input.source)  # created earlier in the block
            else:
                spent = None
            if spent is not None:
                flows[spent[0]] = flows.get(spent[0], 0) - spent[1]
        for output in tx.outputs:
            flows[output.condition] = flows.get(output.condition, 0) + output.amount * 10**output.base
    lost = {
        conditions: before.balance(conditions) + flow - after.balance(conditions)
        for conditions, flow in flows.items()
    }
    return {conditions: cents for conditions, cents in lost.items() if cents > 0}
