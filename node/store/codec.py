"""How records, deltas and head pointers are stored: canonical CBOR of their items.

The store reads back only what it wrote itself, but still decodes strictly: a damaged database
shows as a `StoreError`, never as a wrong state.
"""

from typing import Any

import cbor2

from node.errors import StoreDamaged
from protocol.crypto import Hash
from protocol.encoding import encode
from protocol.state.delta import Delta
from protocol.state.tables import TABLES


def encode_record(table: str, record: Any) -> bytes:
    return encode(TABLES[table].value_item(record))


def decode_record(table: str, raw: bytes) -> Any:
    try:
        return TABLES[table].value_from_item(_decode(raw))
    except (TypeError, ValueError, IndexError) as exc:
        raise StoreDamaged(f"a {table} record does not decode ({exc})") from exc


def encode_delta(delta: Delta) -> bytes:
    rows = []
    for table, key, before, after in delta.rows():
        declared = TABLES[table]
        rows.append([table, declared.key_item(key), declared.value_item(before), declared.value_item(after)])
    return encode([delta.number, delta.previous_digest, delta.digest, rows])


def decode_delta(raw: bytes) -> Delta:
    try:
        number, previous, digest, rows = _decode(raw)
        changes = {}
        for table, key, before, after in rows:
            declared = TABLES[table]
            changes[(table, declared.key_from_item(key))] = (
                declared.value_from_item(before),
                declared.value_from_item(after),
            )
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise StoreDamaged(f"an undo record does not decode ({exc})") from exc
    return Delta(number, changes, Hash(previous), Hash(digest))


def _decode(raw: bytes) -> Any:
    """Decode what the store wrote itself: well-formedness is checked, canonical form is not (LevelDB
    checksums its blocks, and re-encoding every record read would double the cost of reads)."""
    try:
        return cbor2.loads(raw)
    except (cbor2.CBORError, ValueError, TypeError, EOFError) as exc:
        raise StoreDamaged(f"a record does not decode ({exc})") from exc
