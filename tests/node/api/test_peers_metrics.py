"""`GET /peers` and `GET /metrics` over a real store: the peer table as the network gives it, and the
node's figures in Prometheus' format, each node with its own registry."""

import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from node.api.context import ApiContext
from node.api.metrics import NodeMetrics
from node.chain import AddResult, Outcome
from node.p2p.network import PeerRow
from tests.node.api.conftest import api_over, http_client
from tests.protocol.chain_builder import Chain

CONNECTED = PeerRow(
    id="12D3KooWConnected",
    address="/ip4/127.0.0.1/tcp/7777/p2p/12D3KooWConnected",
    connected=True,
    head=41,
    latency_ms=12.5,
    score=4.0,
    banned_until=None,
    ban_reason=None,
)
BANNED = PeerRow(
    id="12D3KooWBanned",
    address="",
    connected=False,
    head=None,
    latency_ms=None,
    score=0.0,
    banned_until=time.time() + 3600,
    ban_reason="sent a block that breaks a rule",
)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by (name, sorted labels)."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_peers_lists_the_network_s_table(api: ApiContext) -> None:
    api.peer_table = lambda: [CONNECTED, BANNED]
    async with http_client(api) as http:
        answer = await http.get("/peers")
    assert answer.status_code == 200
    peers: list[dict[str, Any]] = answer.json()["peers"]
    assert [p["id"] for p in peers] == [CONNECTED.id, BANNED.id]
    assert peers[0] == {
        "id": CONNECTED.id,
        "address": CONNECTED.address,
        "connected": True,
        "head": 41,
        "latency_ms": 12.5,
        "score": 4.0,
        "banned_until": None,
        "ban_reason": None,
    }
    assert peers[1]["banned_until"] == BANNED.banned_until
    assert peers[1]["ban_reason"] == "sent a block that breaks a rule"


async def test_peers_of_a_lone_node_is_an_empty_list(api: ApiContext) -> None:
    async with http_client(api) as http:
        assert (await http.get("/peers")).json() == {"peers": []}


async def test_metrics_give_the_head_the_money_the_peers_and_the_counters(
    api: ApiContext, chain: Chain
) -> None:
    metrics = NodeMetrics()
    api.metrics = metrics
    api.peer_table = lambda: [CONNECTED, BANNED]
    api.sync_progress = lambda: (30, 100)
    metrics.block_taken(AddResult(Outcome.APPLIED))
    metrics.block_taken(AddResult(Outcome.APPLIED))
    metrics.block_taken(AddResult(Outcome.INVALID, "breaks a rule"))
    metrics.forge_attempted()
    metrics.block_forged()
    async with http_client(api) as http:
        answer = await http.get("/metrics")
        node = (await http.get("/node")).json()
        money = (await http.get("/currency")).json()["money"]
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)
    assert found[("june_head_number", ())] == node["head"]["number"] == chain.blocks[-1].number
    assert found[("june_head_median_time_seconds", ())] == node["head"]["median_time"]
    assert found[("june_members", ())] == money["members"]
    assert found[("june_monetary_mass_cents", ())] == money["monetary_mass"]
    assert found[("june_peers_connected", ())] == 1
    assert found[("june_peers_banned", ())] == 1
    assert found[("june_sync_target_head", ())] == max(41, chain.blocks[-1].number)
    assert found[("june_sync_round_blocks", ())] == 100
    assert found[("june_sync_round_applied_blocks", ())] == 30
    assert found[("june_blocks_total", (("outcome", "applied"),))] == 2
    assert found[("june_blocks_total", (("outcome", "invalid"),))] == 1
    assert found[("june_blocks_total", (("outcome", "switched"),))] == 0  # present before it happens
    assert found[("june_forge_attempts_total", ())] == 1
    assert found[("june_blocks_forged_total", ())] == 1
    for state in ("pending", "waiting"):
        for kind in ("identity", "membership", "certification", "revocation", "transaction"):
            assert found[("june_mempool_documents", (("kind", kind), ("state", state)))] == 0


async def test_each_node_counts_in_its_own_registry(api: ApiContext) -> None:
    first, second = NodeMetrics(), NodeMetrics()
    first.block_taken(AddResult(Outcome.APPLIED))
    api.metrics = second
    async with http_client(api) as http:
        found = samples((await http.get("/metrics")).text)
    assert found[("june_blocks_total", (("outcome", "applied"),))] == 0
    assert samples(first.exposition().decode())[("june_blocks_total", (("outcome", "applied"),))] == 1


async def test_metrics_of_a_node_without_a_chain_declare_the_head_without_a_value(tmp_path: Path) -> None:
    with api_over(tmp_path / "db", None) as empty:
        async with http_client(empty) as http:
            answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert "# TYPE june_head_number gauge" in answer.text
    assert ("june_head_number", ()) not in samples(answer.text)
