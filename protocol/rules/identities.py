"""Identities: newcomers' identities, unique forever (rules.md §5.1, BR_G63, G73, G74)."""

from protocol.documents import Identity
from protocol.errors import RuleViolation
from protocol.keys import pubkey_display
from protocol.rules.context import RuleContext
from protocol.rules.sources import open_rights
from protocol.rules.windows import check_reference
from protocol.state.overlay import Overlay
from protocol.state.records import IdentityRecord
from protocol.state.tables import IDENTITY, UID
from protocol.state.view import StateView


def check_identity(view: StateView, ctx: RuleContext, identity: Identity) -> None:
    """An identity may be written: recent reference, uid and key never used (BR_G63, G73, G74)."""
    # Verify the reference block is within idtyWindow.
    check_reference(view, ctx, identity.block, ctx.params.idty_window, "BR_G63", f"identity {identity.uid!r}")
    # Verify the uid was never taken.
    if view.key_of_uid(identity.uid) is not None:
        raise RuleViolation("BR_G73", f"uid {identity.uid!r} is already taken")
    # Verify the key never had an identity.
    if view.identity(identity.issuer) is not None:
        raise RuleViolation("BR_G74", f"{pubkey_display(identity.issuer)} already has an identity")


def apply_identity(state: Overlay, ctx: RuleContext, identity: Identity) -> None:
    """Write a newcomer: a member from this block on (IINDEX CREATE)."""
    record = IdentityRecord(
        uid=identity.uid,
        hash=identity.hash,
        written_on=ctx.number,
        member=True,
        was_member=True,
        kick=False,
        revoked_on=None,
    )
    state.write(IDENTITY, identity.issuer, record)
    state.write(UID, identity.uid, identity.issuer)
    open_rights(state, identity.issuer, ctx.number)
