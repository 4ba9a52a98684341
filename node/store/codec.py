"""How records, deltas and head pointers are stored: canonical CBOR of their items.

The store reads back only what it wrote itself, but still decodes strictly: a damaged database
shows as a `StoreError`, never as a wrong state.
"""

from typing import Any

import cbor2

from node.errors import StoreDamaged
from protocol.crypto import Hash, PublicKey
from protocol.encoding import encode
from protocol.state.delta import (
    TABLE_BLOCK,
    TABLE_CERT,
    TABLE_CHAIN,
    TABLE_IDENTITY,
    TABLE_MEMBERSHIP,
    TABLE_SOURCE,
    TABLE_UID,
    Delta,
    key_item,
    value_item,
)
from protocol.state.records import (
    BlockSummary,
    CertRecord,
    ChainRecord,
    IdentityRecord,
    MembershipRecord,
    SourceRecord,
    source_id_from_item,
)

_RECORD_TYPES: dict[str, Any] = {
    TABLE_CHAIN: ChainRecord,
    TABLE_BLOCK: BlockSummary,
    TABLE_IDENTITY: IdentityRecord,
    TABLE_MEMBERSHIP: MembershipRecord,
    TABLE_CERT: CertRecord,
    TABLE_SOURCE: SourceRecord,
}


def encode_record(table: str, record: Any) -> bytes:
    return encode(value_item(record))


def decode_record(table: str, raw: bytes) -> Any:
    item = _decode(raw)
    if table == TABLE_UID:
        return PublicKey(item)
    return _RECORD_TYPES[table].from_item(item)


def _key_from_item(table: str, item: Any) -> Any:
    if table == TABLE_CERT:
        return (PublicKey(item[0]), PublicKey(item[1]))
    if table == TABLE_SOURCE:
        return source_id_from_item(item)
    if table in (TABLE_IDENTITY, TABLE_MEMBERSHIP):
        return PublicKey(item)
    return item


def encode_delta(delta: Delta) -> bytes:
    rows = [
        [table, key_item(key), value_item(before), value_item(after)]
        for (table, key), (before, after) in delta.changes.items()
    ]
    return encode([delta.number, delta.previous_digest, delta.digest, rows])


def decode_delta(raw: bytes) -> Delta:
    number, previous, digest, rows = _decode(raw)
    changes = {}
    for table, key, before, after in rows:
        changes[(table, _key_from_item(table, key))] = (_value(table, before), _value(table, after))
    return Delta(number, changes, Hash(previous), Hash(digest))


def _value(table: str, item: Any) -> Any:
    if item is None:
        return None
    if table == TABLE_UID:
        return PublicKey(item)
    return _RECORD_TYPES[table].from_item(item)


def _decode(raw: bytes) -> Any:
    """Decode what the store wrote itself: well-formedness is checked, canonical form is not (LevelDB
    checksums its blocks, and re-encoding every record read would double the cost of reads)."""
    try:
        return cbor2.loads(raw)
    except (cbor2.CBORError, ValueError, TypeError, EOFError) as exc:
        raise StoreDamaged(f"a record does not decode ({exc})") from exc
