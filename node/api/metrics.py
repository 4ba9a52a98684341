"""`GET /metrics`: the node's figures in Prometheus' text format, for an operator's monitoring.

Counters (blocks taken by outcome, forging attempts, blocks forged) are fed by hooks where those
things happen (`BlockIntake.on_taken`, `Forger.on_attempt` / `on_forged`); gauges (head, members,
money, peers, mempool, sync) are read from the store, the mempool and the network when Prometheus
scrapes, so that they cost nothing between scrapes and are never stale. Each node has its own
`CollectorRegistry`: several nodes live in one process (tests, `juned devnet`), and the global
registry would mix their figures. Every metric is listed in docs/api.md.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from node.chain import AddResult, Outcome
from node.mempool import State
from protocol.documents import Certification, Identity, Membership, Revocation, Transaction

if TYPE_CHECKING:
    from node.api.context import ApiContext

router = APIRouter(tags=["node"])

#: Kinds of pending documents, as the `kind` label says them.
KINDS = tuple(
    kind.__name__.lower() for kind in (Identity, Membership, Certification, Revocation, Transaction)
)


class NodeMetrics:
    """One node's registry: its counters, and the collector of its gauges once `watch` is called."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.blocks = Counter(
            "june_blocks",
            "Blocks taken by the block intake (gossip, sync, forger), by outcome",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in Outcome:  # every outcome present from the start, so that rate() works
            self.blocks.labels(outcome=outcome.value)
        self.forge_attempts = Counter(
            "june_forge_attempts", "Blocks this node started to forge (its turn came)", registry=self.registry
        )
        self.blocks_forged = Counter(
            "june_blocks_forged",
            "Blocks this node forged (proof of work found) and handed to its intake",
            registry=self.registry,
        )
        self._watched: ApiContext | None = None

    def block_taken(self, result: AddResult) -> None:
        """Hook of `BlockIntake.on_taken`."""
        self.blocks.labels(outcome=result.outcome.value).inc()

    def forge_attempted(self) -> None:
        """Hook of `Forger.on_attempt`."""
        self.forge_attempts.inc()

    def block_forged(self) -> None:
        """Hook of `Forger.on_forged`."""
        self.blocks_forged.inc()

    def watch(self, api: "ApiContext") -> None:
        """Read the gauges from `api` at each scrape (once: a second call changes nothing)."""
        if self._watched is None:
            self._watched = api
            self.registry.register(NodeCollector(api))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class NodeCollector(Collector):
    """The gauges, computed at scrape time from the node's parts."""

    def __init__(self, api: "ApiContext") -> None:
        self.api = api

    def collect(self) -> Iterator[Metric]:
        api = self.api
        pointer, head = api.store.head_pointer(), api.store.head()
        own_head = None if pointer is None else pointer[0]
        yield _gauge("june_head_number", "Number of the head block", own_head)
        yield _gauge(
            "june_head_median_time_seconds",
            "Median time of the head block (Unix seconds): the chain's own clock",
            None if head is None else head.median_time,
        )
        yield _gauge("june_members", "Members of the web of trust at the head", _of(head, "members_count"))
        yield _gauge("june_monetary_mass_cents", "Monetary mass at the head, in cents", _of(head, "mass"))
        rows = api.peer_table()
        connected = [row for row in rows if row.connected and row.banned_until is None]
        yield _gauge("june_peers_connected", "Peers connected and not banned", len(connected))
        yield _gauge(
            "june_peers_banned", "Peers banned now", sum(1 for row in rows if row.banned_until is not None)
        )
        pool = GaugeMetricFamily(
            "june_mempool_documents", "Documents in the mempool, by state and kind", labels=["state", "kind"]
        )
        counts = {(state, kind): 0 for state in (State.PENDING, State.WAITING) for kind in KINDS}
        for document in api.mempool.documents():
            state = api.mempool.status(document.hash).state
            key = (state, type(document).__name__.lower())
            if key in counts:
                counts[key] += 1
        for (state, kind), count in counts.items():
            pool.add_metric([state.value, kind], count)
        yield pool
        claimed = [row.head for row in connected if row.head is not None]
        target = max([*claimed, *([] if own_head is None else [own_head])], default=None)
        yield _gauge(
            "june_sync_target_head",
            "Best head number claimed by a connected peer, or ours if higher: what sync aims at",
            target,
        )
        applied, planned = api.sync_progress()
        yield _gauge("june_sync_round_blocks", "Blocks of the current or last sync round", planned)
        yield _gauge(
            "june_sync_round_applied_blocks",
            "Blocks applied so far by the current or last sync round",
            applied,
        )


def _of(head: object, name: str) -> int | None:
    return None if head is None else int(getattr(head, name))


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    """A gauge with one value; with none (no chain yet) it is declared but has no sample."""
    family = GaugeMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], value)
    return family


@router.get(
    "/metrics",
    summary="The node's figures in Prometheus' text format (see docs/api.md)",
    response_class=Response,
)
async def metrics(request: Request) -> Response:
    node_metrics: NodeMetrics = request.app.state.metrics
    return Response(node_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
