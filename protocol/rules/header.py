"""Header rules that tie a block to its chain and to the state (rules.md §6.1, §7.2 HEAD fields).

Chaining (BR_G01–G03), currency (G98), the issuer's membership (G100/G101), the members count
(G10) and the money fields (G11–G15, G58, G59). Time, issuers frame, difficulty and proof of work
are the block production rules.
"""

from typing import Any

from protocol.crypto import hash_hex
from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.money import MoneyState, MoneyStep, compute_money_step, genesis_money
from protocol.rules.context import RuleContext
from protocol.rules.production import compute_block_size
from protocol.state.records import BlockSummary
from protocol.state.view import StateView


def check_chaining(view: StateView, ctx: RuleContext, block: Block) -> None:
    """Number, previous hash and previous issuer follow the head; same currency (BR_G01–G03, G98)."""
    head = view.head()
    # Verify the number follows the head.
    expected = 0 if head is None else head.number + 1
    if block.number != expected:
        raise RuleViolation("BR_G01", f"block number is {block.number}, expected {expected}")
    if head is not None:
        # Verify the previous hash and issuer are the head's.
        previous_hash = view.block_hash(head.number)
        if block.previous_hash != previous_hash:
            raise RuleViolation("BR_G02", f"previous hash does not match block {head.number}")
        if block.previous_issuer != head.issuer:
            raise RuleViolation("BR_G03", f"previous issuer does not match block {head.number}'s issuer")
    # Verify the currency is the chain's.
    if block.currency != ctx.currency:
        raise RuleViolation("BR_G98", f"currency is {block.currency!r}, expected {ctx.currency!r}")


def check_issuer(view: StateView, ctx: RuleContext, block: Block) -> None:
    """The issuer is a member before the block; in block 0, one of its founders (BR_G100, G101)."""
    if ctx.genesis:
        # Verify block 0 is issued by one of the identities it creates.
        if block.issuer not in ctx.newcomers:
            raise RuleViolation("BR_G101", "block 0 must be issued by one of its founders")
        return
    # Verify the issuer is a member.
    identity = view.identity(block.issuer)
    if identity is None or not identity.member:
        raise RuleViolation("BR_G101", "the issuer is not a member")


def compute_members_count(view: StateView, ctx: RuleContext, block: Block) -> int:
    """Members after the block: before, plus newcomers and returning joiners, minus exclusions (BR_G10)."""
    before = 0 if ctx.previous is None else ctx.previous.members_count
    returning = sum(1 for m in block.joiners if m.issuer not in ctx.newcomers)
    return before + len(block.identities) + returning - len(block.excluded)


def check_members_count(ctx: RuleContext, block: Block, members_count: int) -> None:
    # Verify the written count (BR_G10, G60).
    if block.members_count != members_count:
        raise RuleViolation("BR_G60", f"members count is {block.members_count}, expected {members_count}")


def compute_money(ctx: RuleContext, members_count: int) -> MoneyStep:
    """The money fields after the block (BR_G11–G15): block 0 initialises them."""
    if ctx.previous is None:
        return MoneyStep(state=genesis_money(ctx.params), new_dividend=None)
    previous = MoneyState(
        ud_time=ctx.previous.ud_time,
        ud_reeval_time=ctx.previous.ud_reeval_time,
        dividend=ctx.previous.dividend,
        unit_base=ctx.previous.unit_base,
        mass=ctx.previous.mass,
        mass_reeval=ctx.previous.mass_reeval,
    )
    return compute_money_step(
        previous, median_time=ctx.median_time, members_count=members_count, params=ctx.params
    )


def check_money(block: Block, step: MoneyStep) -> None:
    # Verify the written dividend and unit base (BR_G58, G59).
    if block.dividend != step.new_dividend:
        raise RuleViolation("BR_G58", f"dividend is {block.dividend}, expected {step.new_dividend}")
    if block.unit_base != step.state.unit_base:
        raise RuleViolation("BR_G59", f"unit base is {block.unit_base}, expected {step.state.unit_base}")


def production_fields(block: Block, members_count: int, diff_number: int) -> dict[str, Any]:
    """The fields of a block's summary that later blocks read to check their production (time,
    median time, issuers frame, difficulty, powMin, size): one definition for the chain's summaries
    and for a node's fork candidates."""
    return {
        "number": block.number,
        "time": block.time,
        "median_time": block.median_time,
        "issuer": block.issuer,
        "issuers_count": block.issuers_count,
        "issuers_frame": block.issuers_frame,
        "issuers_frame_var": block.issuers_frame_var,
        "diff_number": diff_number,
        "pow_min": block.pow_min,
        "members_count": members_count,
        "size": compute_block_size(block),
    }


def summarize(block: Block, members_count: int, step: MoneyStep, diff_number: int) -> BlockSummary:
    """The record later blocks read about this one."""
    money = step.state
    return BlockSummary(
        **production_fields(block, members_count, diff_number),
        dividend=money.dividend,
        unit_base=money.unit_base,
        mass=money.mass,
        mass_reeval=money.mass_reeval,
        ud_time=money.ud_time,
        ud_reeval_time=money.ud_reeval_time,
        dividend_created=step.new_dividend is not None,
    )


def describe_digest_mismatch(written: bytes, computed: bytes) -> str:
    return f"state digest is {hash_hex(written)}, the state after the block gives {hash_hex(computed)}"
