"""Certifications: who may certify whom, how often, how many (rules.md §5.2, BR_G65–G72)."""

from protocol.crypto import Hash, PublicKey
from protocol.documents import Certification
from protocol.errors import RuleViolation
from protocol.keys import pubkey_display
from protocol.rules.context import RuleContext
from protocol.rules.windows import check_reference
from protocol.state.overlay import Overlay
from protocol.state.records import CertRecord
from protocol.state.tables import CERT
from protocol.state.view import StateView


def get_identity_hash(view: StateView, ctx: RuleContext, key: PublicKey) -> Hash | None:
    """The hash of `key`'s identity: written in the state, or a newcomer's in this block."""
    newcomer = ctx.newcomers.get(key)
    if newcomer is not None:
        return newcomer.hash
    record = view.identity(key)
    return None if record is None else record.hash


def check_certification(view: StateView, ctx: RuleContext, cert: Certification) -> int:
    """A certification may be written; returns the median time of its reference block."""
    what = f"certification {pubkey_display(cert.issuer)} → {pubkey_display(cert.receiver)}"
    # Verify the reference block is within sigWindow.
    ref_time = check_reference(view, ctx, cert.block, ctx.params.sig_window, "BR_G65", what)
    if ctx.genesis:
        # Verify, in block 0, that both ends are founders.
        if cert.issuer not in ctx.newcomers or cert.receiver not in ctx.newcomers:
            raise RuleViolation("BR_G68", f"{what}: block 0 certifications are between its founders")
        check_certified_identity(view, ctx, cert, what)
        return ref_time
    # Verify the issuer is a member.
    issuer = view.identity(cert.issuer)
    if issuer is None or not issuer.member:
        raise RuleViolation("BR_G68", f"{what}: the issuer is not a member")
    # Verify the receiver is a member or a newcomer of this block (a new identity or a returning member).
    receiver = view.identity(cert.receiver)
    if not ctx.is_newcomer(cert.receiver) and (receiver is None or not receiver.member):
        raise RuleViolation("BR_G69", f"{what}: the receiver is neither a member nor a newcomer")
    check_certified_identity(view, ctx, cert, what)
    # Verify the receiver is not leaving (a returning member's join clears a past leave).
    membership = view.membership(cert.receiver)
    if membership is not None and membership.leaving and cert.receiver not in ctx.returning:
        raise RuleViolation("BR_G70", f"{what}: the receiver is leaving")
    # Verify the issuer's stock: fewer than sigStock live certifications before this one.
    issued = list(view.certified_by(cert.issuer))
    if len(issued) >= ctx.params.sig_stock:
        raise RuleViolation(
            "BR_G66",
            f"{what}: the issuer has {len(issued)} live certifications, sigStock is {ctx.params.sig_stock}",
        )
    # Verify the issuer's last certification is at least sigPeriod old.
    for receiver_key in issued:
        record = view.certification(cert.issuer, receiver_key)
        if record is not None and record.chainable_on > ctx.previous_median_time:
            raise RuleViolation(
                "BR_G67", f"{what}: the issuer may certify again at median time {record.chainable_on}"
            )
    # Verify a live certification of the same pair is renewed only after sigReplay.
    existing = view.certification(cert.issuer, cert.receiver)
    if existing is not None and not existing.replayable_on < ctx.previous_median_time:
        raise RuleViolation(
            "BR_G71", f"{what}: already live, renewable at median time {existing.replayable_on}"
        )
    return ref_time


def check_certified_identity(view: StateView, ctx: RuleContext, cert: Certification, what: str) -> None:
    """The certification names the receiver's identity, which its signature binds (BR_G72)."""
    # Verify the identity hash.
    if get_identity_hash(view, ctx, cert.receiver) != cert.identity:
        raise RuleViolation("BR_G72", f"{what} does not name the receiver's identity")


def apply_certification(state: Overlay, ctx: RuleContext, cert: Certification, ref_time: int) -> None:
    """Write the certification (CINDEX CREATE): expiry counts from its reference block."""
    record = CertRecord(
        written_on=ctx.number,
        expires_on=ref_time + ctx.params.sig_validity,
        chainable_on=ctx.median_time + ctx.params.sig_period,
        replayable_on=ctx.median_time + ctx.params.sig_replay,
    )
    state.write(CERT, (cert.issuer, cert.receiver), record)
