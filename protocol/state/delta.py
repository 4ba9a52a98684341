"""`Delta`: everything one block changes in the state, and the state digest it leads to.

A delta maps each changed `(table, key)` to `(before, after)`, None meaning absent. Applying it
writes every `after`; reverting it writes every `before`: exact inverses by construction. The state
digest after block n is

    digest_n = SHA-256(b"june/state/v2" ‖ digest_{n-1} ‖ SHA-256(canonical delta_n))

with `digest_{-1}` = 32 zero bytes and the canonical delta the CBOR array of
`[table, key, before, after]` sorted by table then by encoded key. The digest therefore commits to
the whole history of states, so two peers that agree on it agree on the whole state.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from protocol.crypto import Hash, sha256
from protocol.encoding import encode
from protocol.state.tables import TABLES

STATE_DOMAIN = b"june/state/v2"

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

    def rows(self) -> list[tuple[str, Any, Any, Any]]:
        """`(table, key, before, after)` of every change."""
        return [(table, key, before, after) for (table, key), (before, after) in self.changes.items()]

    def inverse_rows(self) -> list[tuple[str, Any, Any, Any]]:
        """The rows that undo this delta: `after` and `before` swapped."""
        return [(table, key, after, before) for (table, key), (before, after) in self.changes.items()]


def compute_state_digest(previous_digest: Hash, changes: Mapping[tuple[str, Any], Change]) -> Hash:
    rows = []
    for (name, key), (before, after) in changes.items():
        table = TABLES[name]
        rows.append([name, table.key_item(key), table.value_item(before), table.value_item(after)])
    rows.sort(key=lambda row: (row[0], encode(row[1])))
    return sha256(STATE_DOMAIN + previous_digest + sha256(encode(rows)))
