"""What the API reads and writes: the node's store, chain and mempool, behind one small object so
that the API can be served by a running node or, in tests, over a bare store."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from node.chain import ChainManager
from node.mempool import AdmissionResult, Mempool
from node.store import LevelStore
from protocol.documents.pending import PendingDocument


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
