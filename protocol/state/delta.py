"""`Delta`: everything one block changes in the state, and the state digest it leads to.

A delta maps each changed `(table, key)` to `(before, after)`, None meaning absent. Applying it
writes every `after`; reverting it writes every `before`: exact inverses by construction. The state
digest after block n is

    digest_n = SHA-256(b"june/state/v1" ‖ digest_{n-1} ‖ SHA-256(canonical delta_n))

with `digest_{-1}` = 32 zero bytes and the canonical delta the CBOR array of
`[table, key, before, after]` sorted by table then by encoded key. The digest therefore commits to
the whole history of states, so two peers that agree on it agree on the whole state.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from protocol.crypto import Hash, sha256
from protocol.documents.transaction import DividendSource, TransactionSource
from protocol.encoding import encode
from protocol.state.records import source_id_item

STATE_DOMAIN = b"june/state/v1"

TABLE_CHAIN = "chain"
TABLE_BLOCK = "block"
TABLE_IDENTITY = "identity"
TABLE_UID = "uid"
TABLE_MEMBERSHIP = "membership"
TABLE_CERT = "cert"
TABLE_SOURCE = "source"
TABLES = (TABLE_CHAIN, TABLE_BLOCK, TABLE_IDENTITY, TABLE_UID, TABLE_MEMBERSHIP, TABLE_CERT, TABLE_SOURCE)

Change = tuple[Any, Any]


@dataclass(frozen=True)
class Delta:
    """The changes of block `number`, and the digests before and after it."""

    number: int
    changes: Mapping[tuple[str, Any], Change]
    previous_digest: Hash
    digest: Hash

    @classmethod
    def build(cls, number: int, changes: Mapping[tuple[str, Any], Change], previous_digest: Hash) -> "Delta":
        kept = {k: v for k, v in changes.items() if v[0] != v[1]}
        return cls(
            number, MappingProxyType(kept), previous_digest, compute_state_digest(previous_digest, kept)
        )

    def inverse_items(self) -> list[tuple[str, Any, Any]]:
        """`(table, key, value)` to write to undo this delta."""
        return [(table, key, before) for (table, key), (before, _after) in self.changes.items()]

    def items(self) -> list[tuple[str, Any, Any]]:
        """`(table, key, value)` to write to apply this delta."""
        return [(table, key, after) for (table, key), (_before, after) in self.changes.items()]


def compute_state_digest(previous_digest: Hash, changes: Mapping[tuple[str, Any], Change]) -> Hash:
    rows = sorted(
        (
            [table, key_item(key), value_item(before), value_item(after)]
            for (table, key), (before, after) in changes.items()
        ),
        key=lambda row: (row[0], encode(row[1])),
    )
    return sha256(STATE_DOMAIN + previous_digest + sha256(encode(rows)))


def key_item(key: Any) -> Any:
    """The canonical CBOR value of a table key."""
    if isinstance(key, DividendSource | TransactionSource):
        return source_id_item(key)
    if isinstance(key, tuple):
        return list(key)
    return key


def value_item(value: Any) -> Any:
    """The canonical CBOR value of a record (None for absent, raw bytes for the uid table)."""
    if value is None or isinstance(value, bytes):
        return value
    return value.to_item()
