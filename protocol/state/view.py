"""`StateView`: the read-only questions the rules ask of a state, whatever stores it."""

from collections.abc import Iterable
from typing import Protocol

from protocol.crypto import Hash, PublicKey
from protocol.state.records import (
    BlockSummary,
    CertRecord,
    ChainRecord,
    IdentityRecord,
    MembershipRecord,
    SourceId,
    SourceRecord,
)


class StateView(Protocol):
    """The state after the head block. Every method is a pure read."""

    def chain(self) -> ChainRecord | None:
        """Currency and parameters fixed by block 0; None before block 0."""

    def head(self) -> BlockSummary | None:
        """The summary of the head block; None before block 0."""

    def block_summary(self, number: int) -> BlockSummary | None:
        """The summary of block `number` of this chain, if it exists."""

    def block_hash(self, number: int) -> Hash | None:
        """The hash of block `number` of this chain, if it exists."""

    def state_digest(self) -> Hash:
        """The digest of the state after the head block (ZERO_HASH before block 0)."""

    def identity(self, key: PublicKey) -> IdentityRecord | None:
        """The identity written for `key`, members and former members alike."""

    def key_of_uid(self, uid: str) -> PublicKey | None:
        """The key whose identity took `uid`, ever."""

    def membership(self, key: PublicKey) -> MembershipRecord | None:
        """The current membership of `key` (none once revoked)."""

    def certification(self, issuer: PublicKey, receiver: PublicKey) -> CertRecord | None:
        """The live certification issuer → receiver."""

    def source(self, source: SourceId) -> SourceRecord | None:
        """The unspent source `source`."""

    def members(self) -> Iterable[PublicKey]:
        """Every current member."""

    def members_to_kick(self) -> Iterable[PublicKey]:
        """Members flagged for exclusion, whom the next block must exclude (BR_G86)."""

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        """Issuers of the live certifications `receiver` holds."""

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        """Receivers of the live certifications `issuer` gave."""

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        """Every live link (issuer, receiver): the web of trust."""

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        """Live certifications with `expires_on <= until`."""

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        """Memberships not yet expired with `expires_on <= until`."""

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        """Memberships (of identities not revoked) with `revokes_on <= until`."""

    def sources_of(self, conditions: str) -> Iterable[SourceId]:
        """Unspent sources locked by exactly `conditions` (an account)."""
