"""`StackedState`: a view that moves blocks back and forth in memory on top of another view.

The node uses it to validate a fork branch without touching its store: revert the main chain to
the fork point with the undo records, then apply the branch's blocks, all in memory; only a
branch found valid and better is then written, in one batch.
"""

from collections.abc import Iterable

from protocol.crypto import Hash, PublicKey
from protocol.state.delta import TABLE_BLOCK, Delta
from protocol.state.overlay import Overlay
from protocol.state.records import (
    BlockSummary,
    CertRecord,
    ChainRecord,
    IdentityRecord,
    MembershipRecord,
    SourceId,
    SourceRecord,
)
from protocol.state.view import StateView


class StackedState:
    """`base` with blocks reverted and applied in memory."""

    def __init__(self, base: StateView) -> None:
        self.base = base
        head = base.head()
        self.number = -1 if head is None else head.number
        self._digest = base.state_digest()
        self._hashes: dict[int, Hash | None] = {}
        self._tables = Overlay(base, self.number + 1)

    def revert(self, delta: Delta) -> None:
        """Undo the head block, given its delta."""
        if delta.number != self.number or delta.digest != self._digest:
            raise ValueError(f"delta of block {delta.number} is not the head's")
        for table, key, value in delta.inverse_items():
            self._tables.write(table, key, value)
        self._hashes[self.number] = None
        self.number -= 1
        self._digest = delta.previous_digest

    def apply(self, delta: Delta, block_hash: Hash) -> None:
        """Put block `delta.number` (hash `block_hash`) on top."""
        if delta.number != self.number + 1 or delta.previous_digest != self._digest:
            raise ValueError(f"delta of block {delta.number} does not follow head {self.number}")
        for table, key, value in delta.items():
            self._tables.write(table, key, value)
        self.number += 1
        self._hashes[self.number] = block_hash
        self._digest = delta.digest

    # StateView ---------------------------------------------------------------------------------

    def chain(self) -> ChainRecord | None:
        return self._tables.chain()

    def head(self) -> BlockSummary | None:
        return self.block_summary(self.number) if self.number >= 0 else None

    def block_summary(self, number: int) -> BlockSummary | None:
        if not 0 <= number <= self.number:
            return None
        record: BlockSummary | None = self._tables._get(TABLE_BLOCK, number)
        return record

    def block_hash(self, number: int) -> Hash | None:
        if not 0 <= number <= self.number:
            return None
        if number in self._hashes:
            return self._hashes[number]
        return self.base.block_hash(number)

    def state_digest(self) -> Hash:
        return self._digest

    def identity(self, key: PublicKey) -> IdentityRecord | None:
        return self._tables.identity(key)

    def key_of_uid(self, uid: str) -> PublicKey | None:
        return self._tables.key_of_uid(uid)

    def membership(self, key: PublicKey) -> MembershipRecord | None:
        return self._tables.membership(key)

    def certification(self, issuer: PublicKey, receiver: PublicKey) -> CertRecord | None:
        return self._tables.certification(issuer, receiver)

    def source(self, source: SourceId) -> SourceRecord | None:
        return self._tables.source(source)

    def members(self) -> Iterable[PublicKey]:
        return self._tables.members()

    def members_to_kick(self) -> Iterable[PublicKey]:
        return self._tables.members_to_kick()

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        return self._tables.certifiers_of(receiver)

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        return self._tables.certified_by(issuer)

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._tables.all_certifications()

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._tables.certifications_expiring(until)

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        return self._tables.memberships_expiring(until)

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        return self._tables.memberships_revoking(until)

    def sources_of(self, conditions: str) -> Iterable[SourceId]:
        return self._tables.sources_of(conditions)
