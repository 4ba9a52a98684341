"""`MemoryState`: the whole state in dictionaries, with the secondary indexes the rules query.

Used by the tests, the chain simulator and the auditor. Blocks move it forward with `apply` and
back with `revert`; both go through `_write`, which keeps every index in step with the tables.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sortedcontainers import SortedList

from protocol.crypto import ZERO_HASH, Hash, PublicKey
from protocol.state.delta import (
    TABLE_BLOCK,
    TABLE_CERT,
    TABLE_CHAIN,
    TABLE_IDENTITY,
    TABLE_MEMBERSHIP,
    TABLE_SOURCE,
    TABLE_UID,
    TABLES,
    Delta,
)
from protocol.state.records import (
    BlockSummary,
    CertRecord,
    ChainRecord,
    IdentityRecord,
    MembershipRecord,
    SourceId,
    SourceRecord,
)


class MemoryState:
    """A `StateView` held in memory, moved block by block with `apply` and `revert`."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[Any, Any]] = {name: {} for name in TABLES}
        self._hashes: list[Hash] = []
        self._digests: list[Hash] = []
        self._members: set[PublicKey] = set()
        self._kicked: set[PublicKey] = set()
        self._certifiers: defaultdict[PublicKey, set[PublicKey]] = defaultdict(set)
        self._certified: defaultdict[PublicKey, set[PublicKey]] = defaultdict(set)
        self._accounts: defaultdict[str, set[SourceId]] = defaultdict(set)
        self._cert_expiry: SortedList = SortedList()
        self._membership_expiry: SortedList = SortedList()
        self._membership_revocation: SortedList = SortedList()

    # Moving the state -----------------------------------------------------------------------------

    def apply(self, delta: Delta, block_hash: Hash) -> None:
        """Write block `delta.number` (whose hash is `block_hash`) on top of the head."""
        if delta.number != len(self._hashes):
            raise ValueError(f"delta of block {delta.number} does not follow head {len(self._hashes) - 1}")
        if delta.previous_digest != self.state_digest():
            raise ValueError(f"delta of block {delta.number} was computed on another state")
        for table, key, value in delta.items():
            self._write(table, key, value)
        self._hashes.append(block_hash)
        self._digests.append(delta.digest)

    def revert(self, delta: Delta) -> None:
        """Undo the head block, given the delta it applied."""
        if delta.number != len(self._hashes) - 1 or delta.digest != self.state_digest():
            raise ValueError(f"delta of block {delta.number} is not the head's")
        for table, key, value in delta.inverse_items():
            self._write(table, key, value)
        self._hashes.pop()
        self._digests.pop()

    def snapshot(self) -> dict[str, dict[Any, Any]]:
        """A copy of every table, to compare states in tests."""
        return {name: dict(rows) for name, rows in self._tables.items()}

    def _write(self, table: str, key: Any, value: Any) -> None:
        rows = self._tables[table]
        before = rows.get(key)
        if before is not None:
            self._unindex(table, key, before)
        if value is None:
            rows.pop(key, None)
        else:
            rows[key] = value
            self._index(table, key, value)

    def _index(self, table: str, key: Any, value: Any) -> None:
        if table == TABLE_IDENTITY:
            if value.member:
                self._members.add(key)
            if value.kick:
                self._kicked.add(key)
        elif table == TABLE_CERT:
            issuer, receiver = key
            self._certifiers[receiver].add(issuer)
            self._certified[issuer].add(receiver)
            self._cert_expiry.add((value.expires_on, issuer, receiver))
        elif table == TABLE_MEMBERSHIP:
            if not value.expired:
                self._membership_expiry.add((value.expires_on, key))
            self._membership_revocation.add((value.revokes_on, key))
        elif table == TABLE_SOURCE:
            self._accounts[value.conditions].add(key)

    def _unindex(self, table: str, key: Any, value: Any) -> None:
        if table == TABLE_IDENTITY:
            self._members.discard(key)
            self._kicked.discard(key)
        elif table == TABLE_CERT:
            issuer, receiver = key
            _discard(self._certifiers, receiver, issuer)
            _discard(self._certified, issuer, receiver)
            self._cert_expiry.remove((value.expires_on, issuer, receiver))
        elif table == TABLE_MEMBERSHIP:
            if not value.expired:
                self._membership_expiry.remove((value.expires_on, key))
            self._membership_revocation.remove((value.revokes_on, key))
        elif table == TABLE_SOURCE:
            _discard(self._accounts, value.conditions, key)

    # StateView ------------------------------------------------------------------------------------

    def chain(self) -> ChainRecord | None:
        record: ChainRecord | None = self._tables[TABLE_CHAIN].get(0)
        return record

    def head(self) -> BlockSummary | None:
        return self.block_summary(len(self._hashes) - 1) if self._hashes else None

    def block_summary(self, number: int) -> BlockSummary | None:
        record: BlockSummary | None = self._tables[TABLE_BLOCK].get(number)
        return record

    def block_hash(self, number: int) -> Hash | None:
        return self._hashes[number] if 0 <= number < len(self._hashes) else None

    def state_digest(self) -> Hash:
        return self._digests[-1] if self._digests else ZERO_HASH

    def identity(self, key: PublicKey) -> IdentityRecord | None:
        record: IdentityRecord | None = self._tables[TABLE_IDENTITY].get(key)
        return record

    def key_of_uid(self, uid: str) -> PublicKey | None:
        key: PublicKey | None = self._tables[TABLE_UID].get(uid)
        return key

    def membership(self, key: PublicKey) -> MembershipRecord | None:
        record: MembershipRecord | None = self._tables[TABLE_MEMBERSHIP].get(key)
        return record

    def certification(self, issuer: PublicKey, receiver: PublicKey) -> CertRecord | None:
        record: CertRecord | None = self._tables[TABLE_CERT].get((issuer, receiver))
        return record

    def source(self, source: SourceId) -> SourceRecord | None:
        record: SourceRecord | None = self._tables[TABLE_SOURCE].get(source)
        return record

    def members(self) -> Iterable[PublicKey]:
        return list(self._members)

    def members_to_kick(self) -> Iterable[PublicKey]:
        return list(self._kicked)

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        return list(self._certifiers.get(receiver, ()))

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        return list(self._certified.get(issuer, ()))

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        return list(self._tables[TABLE_CERT])

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        return [(issuer, receiver) for _t, issuer, receiver in _up_to(self._cert_expiry, until)]

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        return [key for _t, key in _up_to(self._membership_expiry, until)]

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        return [key for _t, key in _up_to(self._membership_revocation, until)]

    def sources_of(self, conditions: str) -> Iterable[SourceId]:
        return list(self._accounts.get(conditions, ()))


def _up_to(schedule: SortedList, until: int) -> Iterator[Any]:
    """Entries `(time, …)` of a schedule with `time <= until`."""
    return iter(schedule.irange(maximum=(until + 1,), inclusive=(True, False)))


def _discard(index: defaultdict[Any, set[Any]], key: Any, member: Any) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.discard(member)
        if not bucket:
            del index[key]
