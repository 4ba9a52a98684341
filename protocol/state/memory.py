"""`MemoryState`: the whole state in dictionaries, with the secondary indexes the rules query.

Used by the tests, the chain simulator and the auditor. Blocks move it forward with `apply` and
back with `revert`; both go through `_write`, which keeps every index in step with the tables.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from sortedcontainers import SortedList

from protocol.crypto import ZERO_HASH, Hash, PublicKey
from protocol.documents.transaction import TransactionSource
from protocol.state.delta import Delta
from protocol.state.records import BlockSummary, DividendRecord
from protocol.state.tables import CERT, DIVIDEND, IDENTITY, MEMBERSHIP, SOURCE, TABLES, Table
from protocol.state.view import StateView
from protocol.wot.graph import WebOfTrust

K = TypeVar("K")
V = TypeVar("V")


class MemoryState(StateView):
    """A `StateView` held in memory, moved block by block with `apply` and `revert`."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[Any, Any]] = {name: {} for name in TABLES}
        self._hashes: list[Hash] = []
        self._digests: list[Hash] = []
        self._members: set[PublicKey] = set()
        self._kicked: set[PublicKey] = set()
        self._certifiers: defaultdict[PublicKey, set[PublicKey]] = defaultdict(set)
        self._certified: defaultdict[PublicKey, set[PublicKey]] = defaultdict(set)
        self._accounts: defaultdict[str, set[TransactionSource]] = defaultdict(set)
        self._dividends: SortedList = SortedList()
        self._wot: WebOfTrust | None = None  # built on first use, then moved with every delta
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
        for table, key, _before, after in delta.rows():
            self._write(table, key, after)
        if self._wot is not None:
            self._wot.apply(delta)
        self._hashes.append(block_hash)
        self._digests.append(delta.digest)

    def revert(self, delta: Delta) -> None:
        """Undo the head block, given the delta it applied."""
        if delta.number != len(self._hashes) - 1 or delta.digest != self.state_digest():
            raise ValueError(f"delta of block {delta.number} is not the head's")
        for table, key, _after, before in delta.inverse_rows():
            self._write(table, key, before)
        if self._wot is not None:
            self._wot.revert(delta)
        self._hashes.pop()
        self._digests.pop()

    def records(self, table: Table[K, V]) -> Mapping[K, V]:
        """Every record of `table`, read-only (totals over the whole state)."""
        return MappingProxyType(self._tables[table.name])

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
        if table == IDENTITY.name:
            if value.member:
                self._members.add(key)
            if value.kick:
                self._kicked.add(key)
        elif table == CERT.name:
            issuer, receiver = key
            self._certifiers[receiver].add(issuer)
            self._certified[issuer].add(receiver)
            self._cert_expiry.add((value.expires_on, issuer, receiver))
        elif table == MEMBERSHIP.name:
            if not value.expired:
                self._membership_expiry.add((value.expires_on, key))
            self._membership_revocation.add((value.revokes_on, key))
        elif table == SOURCE.name:
            self._accounts[value.conditions].add(key)
        elif table == DIVIDEND.name:
            self._dividends.add(key)

    def _unindex(self, table: str, key: Any, value: Any) -> None:
        if table == IDENTITY.name:
            self._members.discard(key)
            self._kicked.discard(key)
        elif table == CERT.name:
            issuer, receiver = key
            _discard(self._certifiers, receiver, issuer)
            _discard(self._certified, issuer, receiver)
            self._cert_expiry.remove((value.expires_on, issuer, receiver))
        elif table == MEMBERSHIP.name:
            if not value.expired:
                self._membership_expiry.remove((value.expires_on, key))
            self._membership_revocation.remove((value.revokes_on, key))
        elif table == SOURCE.name:
            _discard(self._accounts, value.conditions, key)
        elif table == DIVIDEND.name:
            self._dividends.remove(key)

    # StateView ------------------------------------------------------------------------------------

    def read(self, table: Table[K, V], key: K) -> V | None:
        record: V | None = self._tables[table.name].get(key)
        return record

    def head(self) -> BlockSummary | None:
        return self.block_summary(len(self._hashes) - 1) if self._hashes else None

    def web_of_trust(self) -> WebOfTrust:
        if self._wot is None:
            self._wot = WebOfTrust.build(self)
        return self._wot

    def block_hash(self, number: int) -> Hash | None:
        return self._hashes[number] if 0 <= number < len(self._hashes) else None

    def state_digest(self) -> Hash:
        return self._digests[-1] if self._digests else ZERO_HASH

    def members(self) -> Iterable[PublicKey]:
        return list(self._members)

    def members_to_kick(self) -> Iterable[PublicKey]:
        return list(self._kicked)

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        return list(self._certifiers.get(receiver, ()))

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        return list(self._certified.get(issuer, ()))

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        return list(self._tables[CERT.name])

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        return [(issuer, receiver) for _t, issuer, receiver in _up_to(self._cert_expiry, until)]

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        return [key for _t, key in _up_to(self._membership_expiry, until)]

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        return [key for _t, key in _up_to(self._membership_revocation, until)]

    def transaction_sources_of(self, conditions: str) -> Iterable[TransactionSource]:
        return list(self._accounts.get(conditions, ()))

    def dividend_numbers(self, start: int, stop: int) -> Iterator[int]:
        return iter(self._dividends.irange(start, stop, inclusive=(True, False)))

    def last_dividend(self, number: int) -> tuple[int, DividendRecord] | None:
        dividends = self._dividends
        if not dividends:
            return None
        found: int = dividends[-1]
        if found > number:  # else the newest: what an open range's balance asks, without a search
            position = dividends.bisect_right(number)
            if position == 0:
                return None
            found = dividends[position - 1]
        return found, self._tables[DIVIDEND.name][found]


def _up_to(schedule: SortedList, until: int) -> Iterator[Any]:
    """Entries `(time, …)` of a schedule with `time <= until`."""
    if not schedule or schedule[0][0] > until:  # most blocks: nothing due (no range search)
        return iter(())
    return iter(schedule.irange(maximum=(until + 1,), inclusive=(True, False)))


def _discard(index: defaultdict[Any, set[Any]], key: Any, member: Any) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.discard(member)
        if not bucket:
            del index[key]
