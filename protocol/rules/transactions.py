"""Transactions against the state: sources, unlocks, locktime, windows (rules.md §8.2–8.3).

BR_G87–G90 and G103. Sources created earlier in the same block are spendable (chaining), because
transactions are checked and written one after the other on the block's overlay.
"""

from protocol.documents import Transaction, TransactionSource
from protocol.errors import RuleViolation
from protocol.rules.context import RuleContext
from protocol.rules.sources import consume, create_output
from protocol.rules.windows import check_reference
from protocol.state.overlay import Overlay
from protocol.state.records import SourceRecord
from protocol.state.view import StateView
from protocol.unlock import UnlockError, check_unlock


def check_transaction(
    view: StateView, ctx: RuleContext, tx: Transaction, *, what: str = "transaction"
) -> None:
    """A transaction can be written on `view` (for a block: the overlay holding earlier transactions)."""
    # Verify the reference block is within txWindow.
    check_reference(view, ctx, tx.block, ctx.params.tx_window, "BR_G103", what)
    for index, tx_input in enumerate(tx.inputs):
        source = view.source(tx_input.source)
        # Verify the source exists, unspent, with the amount and base written.
        if source is None:
            raise RuleViolation("BR_G87", f"{what}: input {index} spends a source that is not available")
        if (source.amount, source.base) != (tx_input.amount, tx_input.base):
            raise RuleViolation(
                "BR_G87",
                f"{what}: input {index} claims {tx_input.amount}·10^{tx_input.base}, "
                f"the source holds {source.amount}·10^{source.base}",
            )
        # Verify the proofs unlock the source's condition.
        try:
            check_unlock(
                source.conditions, tx, index, median_time=ctx.median_time, written_time=source.written_time
            )
        except UnlockError as exc:
            raise RuleViolation("BR_G88", f"{what}: input {index}: {exc}") from exc
        # Verify the locktime has elapsed since the source was written.
        if ctx.median_time - source.written_time < tx.locktime:
            raise RuleViolation(
                "BR_G89",
                f"{what}: input {index} is locked until median time {source.written_time + tx.locktime}",
            )
    # Verify no output uses a unit base above the current one.
    unit_base = 0 if ctx.previous is None else ctx.previous.unit_base
    for index, output in enumerate(tx.outputs):
        if output.base > unit_base:
            raise RuleViolation(
                "BR_G90", f"{what}: output {index} has base {output.base}, the unit base is {unit_base}"
            )


def apply_transaction(state: Overlay, ctx: RuleContext, tx: Transaction, accounts: set[str]) -> None:
    """Consume the inputs, create the outputs; add every touched account to `accounts` (for BR_G106)."""
    for tx_input in tx.inputs:
        source = state.source(tx_input.source)
        if source is not None:  # checked just before: always
            accounts.add(source.conditions)
            consume(state, tx_input.source, source)
    tx_hash = tx.hash
    for index, output in enumerate(tx.outputs):
        accounts.add(output.condition)
        record = SourceRecord(output.amount, output.base, output.condition, ctx.number, ctx.median_time)
        create_output(state, TransactionSource(tx_hash, index), record)
