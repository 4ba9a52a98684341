"""The state's tables, declared once: name, record type, and how keys and records are encoded.

Every state implementation (memory, overlay, LevelDB), the state digest and the node's undo
records read these declarations; adding a table means adding one `Table` to `TABLES` (and, if the
rules query it in a new way, an index in each implementation).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from protocol.crypto import Hash, PublicKey
from protocol.documents.transaction import TransactionSource
from protocol.state.records import (
    AccountRecord,
    BlockSummary,
    CertRecord,
    ChainRecord,
    DividendRecord,
    DividendRights,
    IdentityRecord,
    MembershipRecord,
    SourceRecord,
)

K = TypeVar("K")
V = TypeVar("V")


def number_bytes(number: int) -> bytes:
    """8-byte big-endian: keys sort by number, so prefix scans walk them in order."""
    return number.to_bytes(8, "big")


@dataclass(frozen=True)
class Table(Generic[K, V]):
    """One table of the state.

    `key_item`/`key_from_item` give a key's canonical CBOR value (digest, undo records);
    `key_bytes`/`key_from_bytes` its byte form, which orders the table in a sorted store; `tag` is
    the table's prefix in such a store. Records are CBOR arrays of their fields (`to_item`).
    """

    name: str
    tag: bytes
    record: Callable[[Any], V]
    key_item: Callable[[K], Any]
    key_from_item: Callable[[Any], K]
    key_bytes: Callable[[K], bytes]
    key_from_bytes: Callable[[bytes], K]

    def value_item(self, value: V | None) -> Any:
        if value is None or isinstance(value, bytes):
            return value
        return value.to_item()  # type: ignore[attr-defined]

    def value_from_item(self, item: Any) -> V | None:
        return None if item is None else self.record(item)


def _identity(value: Any) -> Any:
    return value


def _pair_bytes(key: tuple[PublicKey, PublicKey]) -> bytes:
    return bytes(key[0]) + bytes(key[1])


def _tx_source_bytes(key: TransactionSource) -> bytes:
    return bytes(key.tx_hash) + key.index.to_bytes(4, "big")


def _chain_record(item: Any) -> ChainRecord:
    return ChainRecord.from_item(item)


def _number_from_bytes(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


CHAIN: Table[int, ChainRecord] = Table(
    "chain", b"tc", _chain_record, _identity, int, lambda _key: b"", lambda _raw: 0
)
BLOCK: Table[int, BlockSummary] = Table(
    "block",
    b"tb",
    BlockSummary.from_item,
    _identity,
    int,
    number_bytes,
    _number_from_bytes,
)
IDENTITY: Table[PublicKey, IdentityRecord] = Table(
    "identity", b"ti", IdentityRecord.from_item, bytes, PublicKey, bytes, PublicKey
)
UID: Table[str, PublicKey] = Table(
    "uid",
    b"tu",
    PublicKey,
    _identity,
    str,
    lambda uid: uid.encode("utf-8"),
    lambda raw: raw.decode("utf-8"),
)
MEMBERSHIP: Table[PublicKey, MembershipRecord] = Table(
    "membership", b"tm", MembershipRecord.from_item, bytes, PublicKey, bytes, PublicKey
)
CERT: Table[tuple[PublicKey, PublicKey], CertRecord] = Table(
    "cert",
    b"tr",
    CertRecord.from_item,
    lambda key: [bytes(key[0]), bytes(key[1])],
    lambda item: (PublicKey(item[0]), PublicKey(item[1])),
    _pair_bytes,
    lambda raw: (PublicKey(raw[:32]), PublicKey(raw[32:64])),
)
SOURCE: Table[TransactionSource, SourceRecord] = Table(
    "source",
    b"ts",
    SourceRecord.from_item,
    lambda key: [bytes(key.tx_hash), key.index],
    lambda item: TransactionSource(Hash(item[0]), item[1]),
    _tx_source_bytes,
    lambda raw: TransactionSource(Hash(raw[:32]), int.from_bytes(raw[32:36], "big")),
)
ACCOUNT: Table[str, AccountRecord] = Table(
    "account",
    b"ta",
    AccountRecord.from_item,
    _identity,
    str,
    lambda conditions: conditions.encode("utf-8"),
    lambda raw: raw.decode("utf-8"),
)
DIVIDEND: Table[int, DividendRecord] = Table(
    "dividend",
    b"td",
    DividendRecord.from_item,
    _identity,
    int,
    number_bytes,
    _number_from_bytes,
)
RIGHTS: Table[PublicKey, DividendRights] = Table(
    "rights", b"tx", DividendRights.from_item, bytes, PublicKey, bytes, PublicKey
)

TABLES: dict[str, Table[Any, Any]] = {
    table.name: table
    for table in (CHAIN, BLOCK, IDENTITY, UID, MEMBERSHIP, CERT, SOURCE, ACCOUNT, DIVIDEND, RIGHTS)
}
