"""The state a chain builds: tables and records, the read-only `StateView`, deltas, implementations.

`MemoryState` holds everything in dictionaries (tests, the auditor); `Overlay` stacks a block's
pending changes on any view and turns them into a `Delta`. The node's LevelDB store implements the
same `StateView`.
"""

from protocol.state.delta import Delta, compute_state_digest
from protocol.state.memory import MemoryState
from protocol.state.overlay import Overlay
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
from protocol.state.view import StateView

__all__ = [
    "AccountRecord",
    "BlockSummary",
    "CertRecord",
    "ChainRecord",
    "Delta",
    "DividendRecord",
    "DividendRights",
    "IdentityRecord",
    "MembershipRecord",
    "MemoryState",
    "Overlay",
    "SourceId",
    "SourceRecord",
    "StateView",
    "compute_state_digest",
]
