"""Validating a block: local rules, global rules on the state before it, then the post-rule events.

`compute_block_delta` gives everything a block changes (the forger uses it to learn the state
digest to write); `validate_block` also requires the written digest to match.
"""

from dataclasses import dataclass, field

from protocol.crypto import PublicKey
from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.rules.certifications import apply_certification, check_certification
from protocol.rules.context import RuleContext
from protocol.rules.events import apply_events
from protocol.rules.exclusions import apply_exclusions, check_exclusions, check_revocation
from protocol.rules.header import (
    check_chaining,
    check_issuer,
    check_members_count,
    check_money,
    compute_members_count,
    compute_money,
    describe_digest_mismatch,
    summarize,
)
from protocol.rules.identities import apply_identity, check_identity
from protocol.rules.local import check_block_local
from protocol.rules.memberships import (
    apply_leaver,
    apply_membership_in,
    check_certification_quorum,
    check_distance,
    check_membership,
    make_distance_evaluator,
)
from protocol.rules.production import FrameCache, check_production
from protocol.rules.transactions import apply_transaction, check_transaction
from protocol.state.delta import Delta
from protocol.state.overlay import Overlay
from protocol.state.records import ChainRecord
from protocol.state.tables import BLOCK, CHAIN
from protocol.state.view import StateView


@dataclass
class ReferenceTimes:
    """Median times of the blocks referenced by the block's memberships and certifications."""

    memberships: dict[PublicKey, int] = field(default_factory=dict)
    certifications: dict[tuple[PublicKey, PublicKey], int] = field(default_factory=dict)


def validate_block(
    view: StateView, block: Block, *, signatures: bool = True, frames: FrameCache | None = None
) -> Delta:
    """The delta of a valid block, or `RuleViolation` naming the first rule it breaks.

    `signatures=False` skips signature checks, for callers that verified them already in bulk;
    `frames` carries the issuers frame from block to block for a caller that validates in a row.
    """
    delta = compute_block_delta(view, block, signatures=signatures, proof_of_work=True, frames=frames)
    # Verify the block commits to the state it produces.
    if block.state_digest != delta.digest:
        raise RuleViolation("BR_STATE_DIGEST", describe_digest_mismatch(block.state_digest, delta.digest))
    return delta


def compute_block_delta(
    view: StateView,
    block: Block,
    *,
    signatures: bool = True,
    proof_of_work: bool = True,
    frames: FrameCache | None = None,
) -> Delta:
    """Check every rule but the state digest, and return the block's delta.

    The forger computes the delta of a block not yet proven nor signed, with both flags False.
    """
    check_block_local(block, signatures=signatures, proof_of_work=proof_of_work)
    ctx = RuleContext.for_block(view, block)
    check_chaining(view, ctx, block)
    check_issuer(view, ctx, block)
    diff_number = check_production(view, ctx.params, block, proof_of_work=proof_of_work, frames=frames)
    reference_times = check_wot(view, ctx, block)
    members_count = compute_members_count(view, ctx, block)
    check_members_count(ctx, block, members_count)
    step = compute_money(ctx, members_count)
    check_money(block, step)

    state = Overlay(view, block.number)
    if ctx.genesis:
        state.write(CHAIN, 0, ChainRecord(ctx.currency, ctx.params))
    apply_wot(state, ctx, block, reference_times)
    accounts: set[str] = set()
    for position, tx in enumerate(block.transactions):
        check_transaction(state, ctx, tx, what=f"transaction {position}")
        apply_transaction(state, ctx, tx, accounts)
    state.write(BLOCK, block.number, summarize(block, members_count, step, diff_number))
    apply_events(state, ctx, dividend=step.new_dividend, unit_base=step.state.unit_base, accounts=accounts)
    return state.delta()


def check_wot(view: StateView, ctx: RuleContext, block: Block) -> ReferenceTimes:
    """The global rules of identities, memberships, certifications and exclusions, on the state before.

    Returns the median times of the blocks each membership and certification references, from
    which their expiry dates count.
    """
    for identity in block.identities:
        check_identity(view, ctx, identity)
    times = ReferenceTimes()
    for role, rows in (("joiner", block.joiners), ("active", block.actives), ("leaver", block.leavers)):
        for membership in rows:
            times.memberships[membership.issuer] = check_membership(view, ctx, membership, role)
    for cert in block.certifications:
        times.certifications[cert.issuer, cert.receiver] = check_certification(view, ctx, cert)
    for revocation in block.revocations:
        check_revocation(view, revocation)
    check_exclusions(view, block)
    candidates = [*block.joiners, *block.actives]
    for membership in candidates:
        certifiers = (c.issuer for c in block.certifications if c.receiver == membership.issuer)
        check_certification_quorum(view, ctx, membership.issuer, membership.uid, certifiers)
    if candidates and not ctx.genesis:
        evaluator = make_distance_evaluator(view, ctx, block.certifications)
        for membership in candidates:
            check_distance(evaluator, ctx, membership.issuer, membership.uid)
    return times


def apply_wot(state: Overlay, ctx: RuleContext, block: Block, times: ReferenceTimes) -> None:
    """Write the block's identities, memberships, certifications, exclusions and revocations."""
    for identity in block.identities:
        apply_identity(state, ctx, identity)
    for membership in (*block.joiners, *block.actives):
        apply_membership_in(state, ctx, membership, times.memberships[membership.issuer])
    for membership in block.leavers:
        apply_leaver(state, ctx, membership)
    for cert in block.certifications:
        apply_certification(state, ctx, cert, times.certifications[cert.issuer, cert.receiver])
    apply_exclusions(state, ctx, block)
