"""`StateView`: the read-only questions the rules ask of a state, whatever stores it.

An implementation provides `read` (one record of one table), the chain's hashes and digest, and
the indexes below; every typed accessor and the money questions (a source, a balance, the sources
of an account) are answered here, once, from those.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import TypeVar

from protocol.conditions import sig_condition, sig_owner
from protocol.crypto import Hash, PublicKey
from protocol.documents.transaction import DividendSource, TransactionSource
from protocol.state.records import (
    AccountRecord,
    BlockSummary,
    CertRecord,
    ChainRecord,
    DividendRecord,
    DividendRights,
    IdentityRecord,
    MembershipRecord,
    SourceId,
    SourceRecord,
)
from protocol.state.tables import (
    ACCOUNT,
    BLOCK,
    CERT,
    CHAIN,
    DIVIDEND,
    IDENTITY,
    MEMBERSHIP,
    RIGHTS,
    SOURCE,
    UID,
    Table,
)
from protocol.wot.graph import WebOfTrust

K = TypeVar("K")
V = TypeVar("V")

#: Past any block number: the end of a range still open.
FOREVER = 1 << 62


class StateView(ABC):
    """The state after the head block. Every method is a pure read."""

    # What an implementation provides ---------------------------------------------------------------

    @abstractmethod
    def read(self, table: Table[K, V], key: K) -> V | None:
        """The record `key` of `table`, if present."""

    @abstractmethod
    def head(self) -> BlockSummary | None:
        """The summary of the head block; None before block 0."""

    @abstractmethod
    def block_hash(self, number: int) -> Hash | None:
        """The hash of block `number` of this chain, if it exists."""

    @abstractmethod
    def state_digest(self) -> Hash:
        """The digest of the state after the head block (ZERO_HASH before block 0)."""

    @abstractmethod
    def members(self) -> Iterable[PublicKey]:
        """Every current member."""

    @abstractmethod
    def members_to_kick(self) -> Iterable[PublicKey]:
        """Members flagged for exclusion, whom the next block must exclude (BR_G86)."""

    @abstractmethod
    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        """Issuers of the live certifications `receiver` holds."""

    @abstractmethod
    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        """Receivers of the live certifications `issuer` gave."""

    @abstractmethod
    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        """Every live link (issuer, receiver): the web of trust."""

    @abstractmethod
    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        """Live certifications with `expires_on <= until`."""

    @abstractmethod
    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        """Memberships not yet expired with `expires_on <= until`."""

    @abstractmethod
    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        """Memberships (of identities not revoked) with `revokes_on <= until`."""

    @abstractmethod
    def transaction_sources_of(self, conditions: str) -> Iterable[TransactionSource]:
        """Unspent transaction outputs locked by exactly `conditions`."""

    @abstractmethod
    def dividend_numbers(self, start: int, stop: int) -> Iterator[int]:
        """The blocks in `[start, stop)` that created a UD, in order (lazily: ranges can be long)."""

    @abstractmethod
    def last_dividend(self, number: int) -> tuple[int, DividendRecord] | None:
        """The last UD created at or before block `number`, with its block number."""

    def web_of_trust(self) -> WebOfTrust:
        """The live links and the members, for the distance rule. Built from the tables here;
        the states that move block by block keep theirs in step with each delta instead."""
        return WebOfTrust.build(self)

    # Records ---------------------------------------------------------------------------------------

    def chain(self) -> ChainRecord | None:
        """Currency and parameters fixed by block 0; None before block 0."""
        return self.read(CHAIN, 0)

    def block_summary(self, number: int) -> BlockSummary | None:
        """The summary of block `number` of this chain, if it exists."""
        return self.read(BLOCK, number)

    def identity(self, key: PublicKey) -> IdentityRecord | None:
        """The identity written for `key`, members and former members alike."""
        return self.read(IDENTITY, key)

    def key_of_uid(self, uid: str) -> PublicKey | None:
        """The key whose identity took `uid`, ever."""
        return self.read(UID, uid)

    def membership(self, key: PublicKey) -> MembershipRecord | None:
        """The current membership of `key` (none once revoked)."""
        return self.read(MEMBERSHIP, key)

    def certification(self, issuer: PublicKey, receiver: PublicKey) -> CertRecord | None:
        """The live certification issuer → receiver."""
        return self.read(CERT, (issuer, receiver))

    def rights(self, key: PublicKey) -> DividendRights | None:
        """The ranges of blocks whose UDs `key` holds unspent."""
        return self.read(RIGHTS, key)

    def account(self, conditions: str) -> AccountRecord | None:
        """The total and number of the transaction outputs locked by `conditions`."""
        return self.read(ACCOUNT, conditions)

    def dividend(self, number: int) -> DividendRecord | None:
        """The UD block `number` created, if it created one."""
        return self.read(DIVIDEND, number)

    # Money -----------------------------------------------------------------------------------------

    def source(self, source: SourceId) -> SourceRecord | None:
        """The unspent source `source`. A UD source `D:key:n` exists when block n created a UD and
        n lies in the key's rights."""
        if isinstance(source, TransactionSource):
            return self.read(SOURCE, source)
        rights = self.rights(source.member)
        if rights is None or not rights.holds(source.block_number):
            return None
        dividend = self.dividend(source.block_number)
        if dividend is None:
            return None
        condition = sig_condition(source.member)
        return SourceRecord(
            dividend.amount, dividend.base, condition, source.block_number, dividend.median_time
        )

    def dividends_held(self, key: PublicKey) -> int:
        """Cents of the UDs `key` holds unspent: two reads per range of its rights."""
        rights = self.rights(key)
        if rights is None:
            return 0
        return sum(self._total_before(end) - self._total_before(start) for start, end in rights.ranges)

    def _total_before(self, number: int | None) -> int:
        """Cents one member received from the UDs of the blocks before `number` (None: all)."""
        last = self.last_dividend(FOREVER if number is None else number - 1)
        return 0 if last is None else last[1].total

    def balance(self, conditions: str) -> int:
        """Cents locked by exactly `conditions`: its transaction outputs, and its UDs for `SIG(key)`."""
        account = self.account(conditions)
        cents = 0 if account is None else account.cents
        owner = sig_owner(conditions)
        return cents if owner is None else cents + self.dividends_held(owner)

    def sources_of(self, conditions: str) -> Iterator[SourceId]:
        """Unspent sources locked by exactly `conditions`: its UDs oldest first, then its outputs.
        Lazy, so that a caller can page through an account holding thousands of UDs."""
        owner = sig_owner(conditions)
        rights = None if owner is None else self.rights(owner)
        if owner is not None and rights is not None:
            for start, end in rights.ranges:
                for number in self.dividend_numbers(start, FOREVER if end is None else end):
                    yield DividendSource(owner, number)
        yield from self.transaction_sources_of(conditions)
