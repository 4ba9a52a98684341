"""Reference blocks: a document names the block it was made against, which must be recent enough.

A reference is found when its number and hash are those of a block of this chain; its age is
HEAD~1.medianTime − medianTime(reference). A reference not found counts as window + 1, which fails
the rule (rules.md §5.1). In block 0 every document names `GENESIS_REF` and has age 0.
"""

from protocol.documents import GENESIS_REF, BlockRef
from protocol.errors import RuleViolation
from protocol.rules.context import RuleContext
from protocol.state.view import StateView


def get_reference_median_time(view: StateView, ctx: RuleContext, ref: BlockRef) -> int | None:
    """The median time of the referenced block, or None when it is not on this chain."""
    if ctx.genesis:
        return ctx.median_time if ref == GENESIS_REF else None
    if view.block_hash(ref.number) != ref.hash:
        return None
    summary = view.block_summary(ref.number)
    return None if summary is None else summary.median_time


def check_reference(
    view: StateView, ctx: RuleContext, ref: BlockRef, window: int, code: str, what: str
) -> int:
    """Raise `code` unless `ref` is on the chain and at most `window` seconds old; return its median time."""
    median_time = get_reference_median_time(view, ctx, ref)
    # Verify the reference is a block of this chain.
    if median_time is None:
        raise RuleViolation(code, f"{what} references block {ref.number}, which is not on this chain")
    # Verify it is recent enough.
    age = ctx.previous_median_time - median_time
    if age > window:
        raise RuleViolation(code, f"{what} references a block {age} s old, the window is {window} s")
    return median_time
