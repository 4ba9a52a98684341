"""`Overlay`: a block's changes stacked on a `StateView`, readable as the state after them.

Validation writes into an overlay as it goes, so later rules of the same block (a transaction
spending an output created earlier in the block, the post-rule events) see the earlier effects.
`delta()` then gives the block's `Delta`; the base view is never written.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from protocol.crypto import Hash, PublicKey
from protocol.state.delta import (
    TABLE_BLOCK,
    TABLE_CERT,
    TABLE_CHAIN,
    TABLE_IDENTITY,
    TABLE_MEMBERSHIP,
    TABLE_SOURCE,
    TABLE_UID,
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
from protocol.state.view import StateView


class Overlay:
    """A `StateView` = `base` + the writes made so far."""

    def __init__(self, base: StateView, number: int) -> None:
        self.base = base
        self.number = number
        self._readers: dict[str, Callable[[Any], Any]] = {
            TABLE_CHAIN: lambda _key: base.chain(),
            TABLE_BLOCK: base.block_summary,
            TABLE_IDENTITY: base.identity,
            TABLE_UID: base.key_of_uid,
            TABLE_MEMBERSHIP: base.membership,
            TABLE_CERT: lambda key: base.certification(*key),
            TABLE_SOURCE: base.source,
        }
        self._after: dict[tuple[str, Any], Any] = {}
        self._before: dict[tuple[str, Any], Any] = {}
        # Our writes by table, and indexes of them, so queries do not scan every write of the block.
        self._tables: dict[str, dict[Any, Any]] = defaultdict(dict)
        self._accounts: defaultdict[str, set[Any]] = defaultdict(set)
        self._receivers: defaultdict[PublicKey, set[Any]] = defaultdict(set)
        self._issuers: defaultdict[PublicKey, set[Any]] = defaultdict(set)

    # Writing ---------------------------------------------------------------------------------------

    def write(self, table: str, key: Any, value: Any) -> None:
        """Set `(table, key)` to `value` (None deletes it)."""
        slot = (table, key)
        if slot not in self._after:
            self._before[slot] = self._readers[table](key)
        self._after[slot] = value
        self._tables[table][key] = value
        if table == TABLE_SOURCE:
            for account in (
                self._accounts[record.conditions] for record in (self._before[slot], value) if record
            ):
                account.add(key)
        elif table == TABLE_CERT:
            self._issuers[key[0]].add(key)
            self._receivers[key[1]].add(key)

    def delta(self) -> Delta:
        changes = {slot: (self._before[slot], after) for slot, after in self._after.items()}
        return Delta.build(self.number, changes, self.base.state_digest())

    # Reading ---------------------------------------------------------------------------------------

    def _get(self, table: str, key: Any) -> Any:
        slot = (table, key)
        if slot in self._after:
            return self._after[slot]
        return self._readers[table](key)

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

    def chain(self) -> ChainRecord | None:
        record: ChainRecord | None = self._get(TABLE_CHAIN, 0)
        return record

    def head(self) -> BlockSummary | None:
        own: BlockSummary | None = self._after.get((TABLE_BLOCK, self.number))
        return own if own is not None else self.base.head()

    def block_summary(self, number: int) -> BlockSummary | None:
        record: BlockSummary | None = self._get(TABLE_BLOCK, number)
        return record

    def block_hash(self, number: int) -> Hash | None:
        return self.base.block_hash(number)

    def state_digest(self) -> Hash:
        return self.base.state_digest()

    def identity(self, key: PublicKey) -> IdentityRecord | None:
        record: IdentityRecord | None = self._get(TABLE_IDENTITY, key)
        return record

    def key_of_uid(self, uid: str) -> PublicKey | None:
        key: PublicKey | None = self._get(TABLE_UID, uid)
        return key

    def membership(self, key: PublicKey) -> MembershipRecord | None:
        record: MembershipRecord | None = self._get(TABLE_MEMBERSHIP, key)
        return record

    def certification(self, issuer: PublicKey, receiver: PublicKey) -> CertRecord | None:
        record: CertRecord | None = self._get(TABLE_CERT, (issuer, receiver))
        return record

    def source(self, source: SourceId) -> SourceRecord | None:
        record: SourceRecord | None = self._get(TABLE_SOURCE, source)
        return record

    def members(self) -> Iterable[PublicKey]:
        return self._merged(TABLE_IDENTITY, self.base.members(), lambda _k, r: bool(r.member))

    def members_to_kick(self) -> Iterable[PublicKey]:
        return self._merged(TABLE_IDENTITY, self.base.members_to_kick(), lambda _k, r: bool(r.kick))

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        base = ((i, receiver) for i in self.base.certifiers_of(receiver))
        keys = self._merged(
            TABLE_CERT, base, lambda k, _r: k[1] == receiver, self._receivers.get(receiver, ())
        )
        return [i for i, _r in keys]

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        base = ((issuer, r) for r in self.base.certified_by(issuer))
        keys = self._merged(TABLE_CERT, base, lambda k, _r: k[0] == issuer, self._issuers.get(issuer, ()))
        return [r for _i, r in keys]

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._merged(TABLE_CERT, self.base.all_certifications(), lambda _k, _r: True)

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._merged(
            TABLE_CERT, self.base.certifications_expiring(until), lambda _k, r: r.expires_on <= until
        )

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        return self._merged(
            TABLE_MEMBERSHIP,
            self.base.memberships_expiring(until),
            lambda _k, r: not r.expired and r.expires_on <= until,
        )

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        return self._merged(
            TABLE_MEMBERSHIP, self.base.memberships_revoking(until), lambda _k, r: r.revokes_on <= until
        )

    def sources_of(self, conditions: str) -> Iterable[SourceId]:
        return self._merged(
            TABLE_SOURCE,
            self.base.sources_of(conditions),
            lambda _k, r: r.conditions == conditions,
            self._accounts.get(conditions, ()),
        )
