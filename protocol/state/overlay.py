"""`Overlay`: a block's changes stacked on a `StateView`, readable as the state after them.

Validation writes into an overlay as it goes, so later rules of the same block (a transaction
spending an output created earlier in the block, the post-rule events) see the earlier effects.
`delta()` then gives the block's `Delta`; the base view is never written.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from protocol.crypto import Hash, PublicKey
from protocol.documents.transaction import TransactionSource
from protocol.state.delta import Delta
from protocol.state.records import BlockSummary, DividendRecord
from protocol.state.tables import BLOCK, CERT, DIVIDEND, IDENTITY, MEMBERSHIP, SOURCE, TABLES, Table
from protocol.state.view import StateView
from protocol.wot.graph import WebOfTrust

K = TypeVar("K")
V = TypeVar("V")


class Overlay(StateView):
    """A `StateView` = `base` + the writes made so far."""

    def __init__(self, base: StateView, number: int) -> None:
        self.base = base
        self.number = number
        self._after: dict[tuple[str, Any], Any] = {}
        self._before: dict[tuple[str, Any], Any] = {}
        # Our writes by table, and indexes of them, so queries do not scan every write of the block.
        self._tables: dict[str, dict[Any, Any]] = defaultdict(dict)
        self._accounts: defaultdict[str, set[Any]] = defaultdict(set)
        self._receivers: defaultdict[PublicKey, set[Any]] = defaultdict(set)
        self._issuers: defaultdict[PublicKey, set[Any]] = defaultdict(set)

    # Writing ---------------------------------------------------------------------------------------

    def write(self, table: Table[K, V], key: K, value: V | None) -> None:
        """Set `(table, key)` to `value` (None deletes it)."""
        self.write_named(table.name, key, value)

    def write_named(self, table: str, key: Any, value: Any) -> None:
        """`write` by table name, for replaying a delta's rows."""
        slot = (table, key)
        if slot not in self._after:
            self._before[slot] = self.base.read(TABLES[table], key)
        self._after[slot] = value
        self._tables[table][key] = value
        if table == SOURCE.name:
            for account in (
                self._accounts[record.conditions] for record in (self._before[slot], value) if record
            ):
                account.add(key)
        elif table == CERT.name:
            self._issuers[key[0]].add(key)
            self._receivers[key[1]].add(key)

    def delta(self) -> Delta:
        changes = {slot: (self._before[slot], after) for slot, after in self._after.items()}
        return Delta.build(self.number, changes, self.base.state_digest())

    # Reading ---------------------------------------------------------------------------------------

    def read(self, table: Table[K, V], key: K) -> V | None:
        slot = (table.name, key)
        if slot in self._after:
            found: V | None = self._after[slot]
            return found
        return self.base.read(table, key)

    def _merged(
        self,
        table: str,
        base_keys: Iterable[Any],
        keep: Callable[[Any, Any], bool],
        candidates: Iterable[Any] | None = None,
    ) -> list[Any]:
        """Keys of `table` selected by `keep(key, record)`: the base's answer corrected by our writes.

        `candidates`, when given, are the only written keys that can be selected (from an index).
        """
        written = self._tables.get(table, {})
        keys = [k for k in base_keys if k not in written]
        for key in written if candidates is None else candidates:
            value = written[key]
            if value is not None and keep(key, value):
                keys.append(key)
        return keys

    def head(self) -> BlockSummary | None:
        own: BlockSummary | None = self._after.get((BLOCK.name, self.number))
        return own if own is not None else self.base.head()

    def block_hash(self, number: int) -> Hash | None:
        return self.base.block_hash(number)

    def state_digest(self) -> Hash:
        return self.base.state_digest()

    def web_of_trust(self) -> WebOfTrust:
        """The base's graph while this overlay changed no link nor member (a pending document's
        check); rebuilt otherwise."""
        if CERT.name in self._tables or IDENTITY.name in self._tables:
            return WebOfTrust.build(self)
        return self.base.web_of_trust()

    def members(self) -> Iterable[PublicKey]:
        return self._merged(IDENTITY.name, self.base.members(), lambda _k, r: bool(r.member))

    def members_to_kick(self) -> Iterable[PublicKey]:
        return self._merged(IDENTITY.name, self.base.members_to_kick(), lambda _k, r: bool(r.kick))

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        base = ((i, receiver) for i in self.base.certifiers_of(receiver))
        keys = self._merged(
            CERT.name, base, lambda k, _r: k[1] == receiver, self._receivers.get(receiver, ())
        )
        return [i for i, _r in keys]

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        base = ((issuer, r) for r in self.base.certified_by(issuer))
        keys = self._merged(CERT.name, base, lambda k, _r: k[0] == issuer, self._issuers.get(issuer, ()))
        return [r for _i, r in keys]

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._merged(CERT.name, self.base.all_certifications(), lambda _k, _r: True)

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._merged(
            CERT.name, self.base.certifications_expiring(until), lambda _k, r: r.expires_on <= until
        )

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        return self._merged(
            MEMBERSHIP.name,
            self.base.memberships_expiring(until),
            lambda _k, r: not r.expired and r.expires_on <= until,
        )

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        return self._merged(
            MEMBERSHIP.name, self.base.memberships_revoking(until), lambda _k, r: r.revokes_on <= until
        )

    def transaction_sources_of(self, conditions: str) -> Iterable[TransactionSource]:
        return self._merged(
            SOURCE.name,
            self.base.transaction_sources_of(conditions),
            lambda _k, r: r.conditions == conditions,
            self._accounts.get(conditions, ()),
        )

    def dividend_numbers(self, start: int, stop: int) -> Iterator[int]:
        own = sorted(n for n, record in self._tables.get(DIVIDEND.name, {}).items() if start <= n < stop)
        if not own:
            yield from self.base.dividend_numbers(start, stop)
            return
        written = self._tables[DIVIDEND.name]
        base = (n for n in self.base.dividend_numbers(start, stop) if n not in written)
        yield from sorted([*base, *(n for n in own if written[n] is not None)])

    def last_dividend(self, number: int) -> tuple[int, DividendRecord] | None:
        written = self._tables.get(DIVIDEND.name)
        if not written:  # most blocks write no dividend: each balance reads the base's
            return self.base.last_dividend(number)
        own = [n for n, record in written.items() if n <= number and record is not None]
        base = self.base.last_dividend(number)
        while base is not None and base[0] in written:  # rewritten by us (a revert in a stack)
            base = self.base.last_dividend(base[0] - 1)
        if own and (base is None or max(own) > base[0]):
            return max(own), written[max(own)]
        return base
