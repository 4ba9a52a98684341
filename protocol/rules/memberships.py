"""Memberships: joining, renewing and leaving, with the certification quorum and the distance rule.

rules.md §5.1, §5.4; BR_G64, G75–G81, G108. Joiners and actives must also hold sigQty
certifications (G79) and pass the distance rule (G76), both counted with this block's certifications.
"""

from collections.abc import Iterable
from dataclasses import replace

from protocol.crypto import PublicKey
from protocol.documents import Certification, Membership
from protocol.errors import RuleViolation
from protocol.params import REVOCATION_FACTOR
from protocol.rules.context import RuleContext
from protocol.rules.sources import open_rights
from protocol.rules.windows import check_reference
from protocol.state.overlay import Overlay
from protocol.state.records import MembershipRecord
from protocol.state.tables import IDENTITY, MEMBERSHIP
from protocol.state.view import StateView
from protocol.wot import DistanceCheck, sentry_threshold


def check_membership(view: StateView, ctx: RuleContext, membership: Membership, role: str) -> int:
    """Rules every membership row shares; `role` is joiner, active or leaver. Returns the reference time."""
    what = f"{role} {membership.uid!r}"
    # Verify the reference block is within msWindow.
    ref_time = check_reference(view, ctx, membership.block, ctx.params.ms_window, "BR_G64", what)
    # Verify the membership is for the issuer's own identity.
    newcomer = ctx.newcomers.get(membership.issuer)
    identity = view.identity(membership.issuer)
    uid = newcomer.uid if newcomer is not None else None if identity is None else identity.uid
    if uid != membership.uid:
        raise RuleViolation("BR_G63", f"{what}: the issuer has no identity with this uid")
    if identity is not None:
        # Verify a revoked identity never comes back.
        if identity.revoked_on is not None:
            raise RuleViolation("BR_G77", f"{what}: the identity was revoked in block {identity.revoked_on}")
        # Verify role against membership: joiners are not members, actives and leavers are.
        if role == "joiner" and identity.member:
            raise RuleViolation("BR_G78", f"{what}: already a member")
        if role == "active" and not identity.member:
            raise RuleViolation("BR_G81", f"{what}: renewing, but not a member")
        if role == "leaver" and not identity.member:
            raise RuleViolation("BR_G80", f"{what}: leaving, but not a member")
    elif role != "joiner" or newcomer is None:
        raise RuleViolation("BR_G63", f"{what}: no identity")
    record = view.membership(membership.issuer)
    if record is not None:
        # Verify the reference moves forward.
        if membership.block.number <= record.ref_number:
            raise RuleViolation(
                "BR_G75", f"{what}: references block {membership.block.number}, not after {record.ref_number}"
            )
        # Verify one membership write per msPeriod.
        if record.chainable_on > ctx.previous_median_time:
            raise RuleViolation(
                "BR_G108", f"{what}: next membership allowed at median time {record.chainable_on}"
            )
    return ref_time


def check_certification_quorum(
    view: StateView, ctx: RuleContext, key: PublicKey, uid: str, block_certifiers: Iterable[PublicKey]
) -> None:
    """A joiner or active holds at least sigQty certifications from distinct issuers (BR_G79)."""
    certifiers = set(view.certifiers_of(key)) | set(block_certifiers)
    # Verify the quorum, counting live certifications and this block's.
    if len(certifiers) < ctx.params.sig_qty:
        raise RuleViolation(
            "BR_G79", f"{uid!r} has {len(certifiers)} certifications, {ctx.params.sig_qty} are needed"
        )


def make_distance_evaluator(
    view: StateView, ctx: RuleContext, certifications: Iterable[Certification]
) -> DistanceCheck:
    """The web of trust as it stands with a block's certifications, for the distance rule: the
    view's live graph (kept in step block by block) with the block's links laid over it, never a
    rebuild from every certification."""
    members_count = 0 if ctx.previous is None else ctx.previous.members_count
    return view.web_of_trust().prepare(
        [(c.issuer, c.receiver) for c in certifications],
        d_sen=sentry_threshold(members_count, ctx.params.step_max),
        step_max=ctx.params.step_max,
    )


def check_distance(evaluator: DistanceCheck, ctx: RuleContext, key: PublicKey, uid: str) -> None:
    """The candidate is reached by enough sentries within stepMax steps (rules.md §5.3, BR_G76)."""
    # Only the verdict matters here (R is exact when it fails, and only then is it written).
    result = evaluator.evaluate(key, x_percent=ctx.params.x_percent, verdict_only=True)
    # Verify R >= xpercent · S.
    if result.outdistanced:
        raise RuleViolation(
            "BR_G76",
            f"{uid!r} is reached by {result.reached_sentries} of {result.sentries} sentries within "
            f"{ctx.params.step_max} steps, {ctx.params.x_percent:.0%} are needed",
        )


def apply_membership_in(state: Overlay, ctx: RuleContext, membership: Membership, ref_time: int) -> None:
    """Join or renew: a fresh membership counted from its reference block; a returning member is back."""
    validity = ctx.params.ms_validity
    state.write(
        MEMBERSHIP,
        membership.issuer,
        MembershipRecord(
            ref_number=membership.block.number,
            expires_on=ref_time + validity,
            revokes_on=ref_time + REVOCATION_FACTOR * validity,
            chainable_on=ctx.median_time + ctx.params.ms_period,
            leaving=False,
            expired=False,
        ),
    )
    identity = state.identity(membership.issuer)
    if identity is not None and not identity.member:
        state.write(IDENTITY, membership.issuer, replace(identity, member=True, was_member=True, kick=False))
        open_rights(state, membership.issuer, ctx.number)


def apply_leaver(state: Overlay, ctx: RuleContext, membership: Membership) -> None:
    """Leave: still a member until the membership expires, but no longer certifiable.

    A leave is a membership write like the others: it starts a new msPeriod, within which no
    renewal is accepted (BR_G107/G108)."""
    record = state.membership(membership.issuer)
    if record is not None:
        state.write(
            MEMBERSHIP,
            membership.issuer,
            replace(
                record,
                leaving=True,
                ref_number=membership.block.number,
                chainable_on=ctx.median_time + ctx.params.ms_period,
            ),
        )
