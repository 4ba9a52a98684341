"""Exclusions and explicit revocations (rules.md §5.5, BR_G82–G86)."""

from dataclasses import replace

from protocol.crypto import PublicKey
from protocol.documents import Block, Revocation
from protocol.errors import RuleViolation
from protocol.keys import pubkey_display
from protocol.rules.context import RuleContext
from protocol.rules.sources import close_rights
from protocol.state.overlay import Overlay
from protocol.state.tables import IDENTITY, MEMBERSHIP
from protocol.state.view import StateView


def check_revocation(view: StateView, revocation: Revocation) -> None:
    """An explicit revocation: of a member's identity, named by hash, not revoked yet (BR_G82, G83)."""
    what = f"revocation of {pubkey_display(revocation.issuer)}"
    identity = view.identity(revocation.issuer)
    # Verify it names the issuer's identity.
    if identity is None or identity.hash != revocation.identity:
        raise RuleViolation("BR_G82", f"{what}: does not name the issuer's identity")
    # Verify the identity is not revoked already.
    if identity.revoked_on is not None:
        raise RuleViolation("BR_G83", f"{what}: already revoked in block {identity.revoked_on}")
    # Verify the identity is a member ([CODE] G30/G82; non-members are revoked implicitly).
    if not identity.member:
        raise RuleViolation("BR_G82", f"{what}: not a member")


def check_exclusions(view: StateView, block: Block) -> None:
    """The Excluded list is exactly the kick list plus this block's revoked keys (BR_G85, G86)."""
    # Verify every excluded key is a member.
    for key in block.excluded:
        identity = view.identity(key)
        if identity is None or not identity.member:
            raise RuleViolation("BR_G85", f"excluded {pubkey_display(key)} is not a member")
    # Verify the list: everyone flagged for exclusion, plus the explicitly revoked, and nobody else.
    expected = set(view.members_to_kick()) | {r.issuer for r in block.revocations}
    written = set(block.excluded)
    missing, extra = expected - written, written - expected
    if missing:
        raise RuleViolation(
            "BR_G86", f"{len(missing)} members must be excluded, e.g. {pubkey_display(min(missing))}"
        )
    if extra:
        raise RuleViolation("BR_G86", f"{pubkey_display(min(extra))} is excluded without reason")


def apply_exclusions(state: Overlay, ctx: RuleContext, block: Block) -> None:
    """Excluded members stop being members; revoked identities are revoked for good."""
    for key in block.excluded:
        identity = state.identity(key)
        if identity is not None:
            state.write(IDENTITY, key, replace(identity, member=False, kick=False))
            close_rights(state, key, ctx.number)
    for revocation in block.revocations:
        revoke(state, ctx, revocation.issuer)


def revoke(state: Overlay, ctx: RuleContext, key: PublicKey) -> None:
    """Mark an identity revoked in this block; its membership ends with it.

    A member revoked implicitly (its membership lapsed so long ago that expiry and revocation fall in
    the same block) is flagged for exclusion, so that the next block's Excluded list says so.
    """
    identity = state.identity(key)
    if identity is not None:
        state.write(IDENTITY, key, replace(identity, kick=identity.member, revoked_on=ctx.number))
    state.write(MEMBERSHIP, key, None)
