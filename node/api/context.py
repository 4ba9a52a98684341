"""What the API reads and writes: the node's store, chain and mempool, behind one small object so
that the API can be served by a running node or, in tests, over a bare store."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from node.chain import ChainManager
from node.mempool import AdmissionResult, Mempool
from node.store import LevelStore
from protocol.documents.pending import PendingDocument

if TYPE_CHECKING:  # the API runs over a bare store in tests: no libp2p nor metrics needed there
    from node.api.metrics import NodeMetrics
    from node.p2p.network import PeerRow


@dataclass
class ApiContext:
    """The node's parts the views use; `submit` is the node's, so that an accepted document is gossiped."""

    store: LevelStore
    chain: ChainManager
    mempool: Mempool
    #: Admit a document (and relay it); raises `RuleViolation` or `NotReady`.
    submit: Callable[[PendingDocument], Awaitable[AdmissionResult]]
    peers: Callable[[], int] = lambda: 0
    address: Callable[[], str] = lambda: ""
    version: str = field(default="0.1.0")
    #: The network's `peer_table()` (`GET /peers`, the peer gauges of `/metrics`).
    peer_table: Callable[[], list["PeerRow"]] = lambda: []
    #: (blocks applied, blocks planned) of the syncer's current or last round.
    sync_progress: Callable[[], tuple[int, int]] = lambda: (0, 0)
    #: The node's metrics (its counters are fed by the node); None: `build_app` makes its own.
    metrics: "NodeMetrics | None" = None
