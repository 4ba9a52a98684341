"""Checking one pending document against the head's state, with the rules blocks use.

The mempool runs these on entry and after every block; the wallet's dry runs too. A pending
document is checked as if it were written in the next block (number head + 1, median time of the
head). Requirements that other documents may still fulfil (a joiner's certifications and distance)
are left to block validation. A refusal may only mean "not yet" (a period not over, a time lock, a
parent transaction to come): `protocol.rules.waiting.classify` tells which, and pools keep those.
"""

from dataclasses import replace

from protocol.documents import Certification, Identity, Membership, MembershipType, Revocation, Transaction
from protocol.documents.pending import PendingDocument
from protocol.errors import RuleViolation
from protocol.rules.certifications import check_certification
from protocol.rules.context import RuleContext
from protocol.rules.exclusions import check_revocation
from protocol.rules.identities import check_identity
from protocol.rules.local import check_transaction_local
from protocol.rules.memberships import check_membership
from protocol.rules.transactions import check_transaction
from protocol.state.view import StateView

_SIGNATURE_CODES = {
    Identity: "checkIdentitiesSignature",
    Certification: "checkCertificationsSignature",
    Membership: "checkMembershipsSignature",
    Revocation: "checkRevocationsSignature",
    Transaction: "checkTxSignature",
}


def check_pending(view: StateView, document: PendingDocument, *, identity: Identity | None = None) -> None:
    """Raise `RuleViolation` unless `document` could be written in the next block.

    `identity` is the pending identity a certification or a newcomer's membership refers to, when
    that identity is not written yet.
    """
    ctx = RuleContext.for_pending(view)
    # Verify the currency.
    if document.currency != ctx.currency:
        raise RuleViolation("BR_G98", f"currency is {document.currency!r}, expected {ctx.currency!r}")
    if identity is not None:
        check_pending(view, identity)
        ctx = replace(ctx, newcomers={identity.issuer: identity})
    match document:
        case Identity():
            check_identity(view, ctx, document)
        case Certification():
            check_certification(view, ctx, document)
        case Membership():
            check_membership(view, ctx, document, get_membership_role(view, document))
        case Revocation():
            check_revocation(view, document)
        case Transaction():
            check_transaction_local(document)
            check_transaction(view, ctx, document)
    # Verify the signature last: it is the dearest check.
    if not document.is_signature_valid():
        raise RuleViolation(_SIGNATURE_CODES[type(document)], "the signature does not verify")


def get_membership_role(view: StateView, membership: Membership) -> str:
    """How a block would write this membership: leaver, active (a member renewing) or joiner."""
    if membership.type is MembershipType.OUT:
        return "leaver"
    identity = view.identity(membership.issuer)
    return "active" if identity is not None and identity.member else "joiner"
