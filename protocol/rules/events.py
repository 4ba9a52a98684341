"""What happens after a block's own rows, in Duniter's order (rules.md §3 step 5).

UDs (BR_G91), low-account destruction (G106), certification expiry (G92), membership expiry (G93)
and the kicks it causes (G94), kicks for too few certifications (G95), implicit revocation (G96).
"""

from dataclasses import replace

from protocol.amounts import account_minimum
from protocol.conditions import sig_owner
from protocol.crypto import PublicKey
from protocol.rules.context import RuleContext
from protocol.rules.exclusions import revoke
from protocol.rules.sources import create_dividend, destroy_account
from protocol.state.overlay import Overlay
from protocol.state.tables import CERT, IDENTITY, MEMBERSHIP


def apply_events(
    state: Overlay, ctx: RuleContext, *, dividend: int | None, unit_base: int, accounts: set[str]
) -> None:
    """Every post-rule event, in order; `dividend` is the UD this block creates, if any."""
    if dividend is not None:
        apply_dividend(state, ctx, dividend, unit_base)
    apply_low_accounts(state, accounts, unit_base)
    receivers = apply_certification_expiry(state, ctx)
    apply_membership_expiry(state, ctx)
    apply_certification_kicks(state, ctx, receivers)
    apply_implicit_revocation(state, ctx)


def apply_dividend(state: Overlay, ctx: RuleContext, dividend: int, unit_base: int) -> None:
    """A UD source `D:member:block` for each member after this block's joins and exclusions
    (BR_G91), written as one dividend record: the members' rights say who holds it.

    June credits exactly the members counted in the monetary mass, so that the mass always equals
    the sum of the UDs created (Duniter also credited members excluded in the same block).
    """
    create_dividend(state, ctx.number, dividend, unit_base, ctx.median_time)


def apply_low_accounts(state: Overlay, accounts: set[str], unit_base: int) -> None:
    """Destroy the sources of an account a transaction touched if it holds less than 1.00 (BR_G106)."""
    minimum = account_minimum(unit_base)
    for account in sorted(accounts):
        if state.balance(account) < minimum:
            destroy_account(state, account, sig_owner(account), state.number)


def apply_certification_expiry(state: Overlay, ctx: RuleContext) -> set[PublicKey]:
    """Certifications whose time is up leave the web of trust (BR_G92); returns their receivers."""
    receivers: set[PublicKey] = set()
    for issuer, receiver in list(state.certifications_expiring(ctx.median_time)):
        state.write(CERT, (issuer, receiver), None)
        receivers.add(receiver)
    return receivers


def apply_membership_expiry(state: Overlay, ctx: RuleContext) -> None:
    """Expired memberships, and their members flagged for exclusion (BR_G93, G94)."""
    for key in list(state.memberships_expiring(ctx.median_time)):
        record = state.membership(key)
        if record is None or record.revokes_on <= ctx.median_time:
            continue  # revoked below instead
        state.write(MEMBERSHIP, key, replace(record, expired=True))
        _flag_for_exclusion(state, key)


def apply_certification_kicks(state: Overlay, ctx: RuleContext, receivers: set[PublicKey]) -> None:
    """Members left with fewer than sigQty certifications are flagged for exclusion (BR_G95)."""
    for receiver in receivers:
        if len(list(state.certifiers_of(receiver))) < ctx.params.sig_qty:
            _flag_for_exclusion(state, receiver)


def apply_implicit_revocation(state: Overlay, ctx: RuleContext) -> None:
    """Identities whose membership lapsed 2·msValidity ago are revoked (BR_G96)."""
    for key in list(state.memberships_revoking(ctx.median_time)):
        revoke(state, ctx, key)


def _flag_for_exclusion(state: Overlay, key: PublicKey) -> None:
    identity = state.identity(key)
    if identity is not None and identity.member and not identity.kick:
        state.write(IDENTITY, key, replace(identity, kick=True))
