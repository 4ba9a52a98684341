"""The records of the state, one per table, each with its canonical CBOR form.

The state is a set of tables of records (Duniter's IINDEX, MINDEX, CINDEX, SINDEX and BINDEX,
reduced to their current rows). Secondary indexes (certifications by receiver, sources by
condition, expiry schedules, the member set) are derived from these tables by each `StateView`
implementation and are not part of the state digest.
"""

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Self

from protocol.crypto import Hash, PublicKey
from protocol.documents.transaction import DividendSource, TransactionSource
from protocol.params import CurrencyParameters

SourceId = DividendSource | TransactionSource

#: Each flat record type's getter of all its fields at once, made on first use.
_FIELD_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _one(name: str) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of one field as a 1-tuple (`attrgetter` of one name gives the bare value)."""
    getter = attrgetter(name)
    return lambda record: (getter(record),)


class FlatRecord:
    """A record whose fields are plain values: its item is the list of its fields, in order."""

    __slots__ = ()

    def to_item(self) -> list[Any]:
        getter = _FIELD_GETTERS.get(type(self))
        if getter is None:
            names: tuple[str, ...] = self.__slots__  # the dataclass's fields, in order
            getter = _FIELD_GETTERS[type(self)] = attrgetter(*names) if len(names) > 1 else _one(names[0])
        return list(getter(self))  # one C call per record: the digest encodes every changed row

    @classmethod
    def from_item(cls, item: list[Any]) -> Self:
        return cls(*item)


@dataclass(frozen=True, slots=True)
class ChainRecord:
    """What block 0 fixes for the whole chain: the currency and its parameters."""

    currency: str
    parameters: CurrencyParameters

    def to_item(self) -> list[Any]:
        return [self.currency, self.parameters.to_item()]

    @classmethod
    def from_item(cls, item: list[Any]) -> "ChainRecord":
        return cls(item[0], CurrencyParameters.from_item(item[1]))


@dataclass(frozen=True, slots=True)
class BlockSummary(FlatRecord):
    """The header fields later rules read about a past block (BINDEX), and the money after it."""

    number: int
    time: int
    median_time: int
    issuer: PublicKey
    issuers_count: int
    issuers_frame: int
    issuers_frame_var: int
    diff_number: int
    pow_min: int
    members_count: int
    size: int
    dividend: int
    unit_base: int
    mass: int
    mass_reeval: int
    ud_time: int
    ud_reeval_time: int
    dividend_created: bool


@dataclass(frozen=True, slots=True)
class IdentityRecord(FlatRecord):
    """An identity ever written (IINDEX). Never deleted: uids and keys are unique forever."""

    uid: str
    hash: Hash
    written_on: int
    member: bool
    was_member: bool
    kick: bool
    revoked_on: int | None


@dataclass(frozen=True, slots=True)
class MembershipRecord(FlatRecord):
    """The current membership of an identity (MINDEX). Times are median times."""

    ref_number: int
    expires_on: int
    revokes_on: int
    chainable_on: int
    leaving: bool
    expired: bool


@dataclass(frozen=True, slots=True)
class CertRecord(FlatRecord):
    """A live certification (CINDEX); deleted when it expires."""

    written_on: int
    expires_on: int
    chainable_on: int
    replayable_on: int


@dataclass(frozen=True, slots=True)
class SourceRecord(FlatRecord):
    """An unspent source of money (SINDEX); deleted when consumed or destroyed."""

    amount: int
    base: int
    conditions: str
    written_on: int
    written_time: int

    @property
    def value(self) -> int:
        """The amount in cents."""
        return int(self.amount * 10**self.base)


@dataclass(frozen=True, slots=True)
class AccountRecord(FlatRecord):
    """The transaction outputs an account (a condition text) holds unspent: their total in cents and
    their number. UDs are not counted here: they follow from the dividends and the member's rights."""

    cents: int
    sources: int


@dataclass(frozen=True, slots=True)
class DividendRecord(FlatRecord):
    """A UD created by block `number` (the table's key) for every member, written once.

    `total` is the cents one member received from every UD up to and including this one, so the
    UDs of any range of blocks sum in two reads.
    """

    amount: int
    base: int
    median_time: int
    total: int

    @property
    def value(self) -> int:
        return int(self.amount * 10**self.base)


#: A range of block numbers `[start, end)`; `end` None: still open (a member today).
BlockRange = tuple[int, int | None]


def in_range(block_range: BlockRange, number: int) -> bool:
    start, end = block_range
    return start <= number and (end is None or number < end)


@dataclass(frozen=True, slots=True)
class DividendRights:
    """The UDs a key holds unspent: those of the UD blocks within these ranges, sorted, disjoint.

    A range opens when the key becomes a member and closes when it stops being one; spending or
    destroying UDs cuts the ranges. Spending the oldest first, as wallets do, keeps one range.
    """

    ranges: tuple[BlockRange, ...]

    def to_item(self) -> list[Any]:
        return [[start, end] for start, end in self.ranges]

    @classmethod
    def from_item(cls, item: list[Any]) -> "DividendRights":
        return cls(tuple((start, end) for start, end in item))

    def holds(self, number: int) -> bool:
        return any(in_range(block_range, number) for block_range in self.ranges)

    @property
    def is_open(self) -> bool:
        return bool(self.ranges) and self.ranges[-1][1] is None
