"""Reads of the node, its blocks and the currency's money figures."""

from pathlib import Path

import httpx
import pytest

from node.api.money import compute_next_dividend
from protocol.encoding import decode
from protocol.keys import pubkey_to_base58
from tests.node.api.conftest import DAY, api_over, http_client
from tests.protocol.chain_builder import Chain


async def test_node_summary(client: httpx.AsyncClient, chain: Chain) -> None:
    summary = (await client.get("/node")).json()
    assert summary["currency"] == "june-test"
    assert summary["head"]["number"] == chain.blocks[-1].number
    assert summary["head"]["hash"] == chain.blocks[-1].hash.hex().upper()
    assert summary["genesis"] is None or summary["genesis"] == chain.blocks[0].hash.hex().upper()
    assert summary["pending"] == 0


async def test_blocks_decoded_raw_and_paged(client: httpx.AsyncClient, chain: Chain) -> None:
    block = (await client.get("/blocks/0")).json()
    assert block["identities"] == ["alice", "bob", "carol", "dave"]
    assert len(block["certifications"]) == 12
    paying = next(b for b in chain.blocks if b.transactions)
    assert (await client.get(f"/blocks/{paying.number}")).json()["transactions"][0]["comment"] == "pain"
    head = chain.blocks[-1]
    raw = await client.get(f"/blocks/{head.number}/raw")
    assert raw.headers["content-type"] == "application/cbor" and raw.content == head.to_bytes()
    page = (await client.get("/blocks", params={"from": 1, "count": 3})).json()
    assert [b["number"] for b in page] == [1, 2, 3]
    tail = (await client.get("/blocks", params={"from": head.number - 1, "count": 50})).json()
    assert [b["number"] for b in tail] == [head.number - 1, head.number]


async def test_raw_blocks_come_a_page_at_a_time(client: httpx.AsyncClient, chain: Chain) -> None:
    """`/blocks/raw`: the stored bytes of consecutive blocks in one CBOR array, for exports."""
    answer = await client.get("/blocks/raw", params={"from": 0, "count": 100})
    assert answer.headers["content-type"] == "application/cbor"
    assert decode(answer.content, max_size=1 << 24) == [b.to_bytes() for b in chain.blocks[:100]]
    head = chain.blocks[-1].number
    past = await client.get("/blocks/raw", params={"from": head + 1})
    assert decode(past.content, max_size=1024) == []
    assert (await client.get("/blocks/raw", params={"count": 101})).status_code == 422


async def test_money_figures(client: httpx.AsyncClient, chain: Chain) -> None:
    answer = (await client.get("/currency")).json()
    money, params = answer["money"], answer["parameters"]
    head = chain.blocks[-1]
    created = sum((b.dividend or 0) * 10**b.unit_base * b.members_count for b in chain.blocks)
    assert money["members"] == head.members_count == 5
    assert money["monetary_mass"] == created
    assert money["mass_per_member"] == created // 5
    assert money["dividend_cents"] == money["dividend"] * 10 ** money["unit_base"]
    assert money["next_dividend_time"] > money["median_time"]
    assert money["next_reevaluation_time"] > money["median_time"]
    assert params["sig_qty"] == 3 and params["dt"] == DAY


@pytest.mark.parametrize("reevaluated", [False, True])
async def test_next_dividend_is_the_one_the_chain_then_creates(tmp_path: Path, reevaluated: bool) -> None:
    chain = Chain(founders=4)
    chain.advance(2 * DAY)
    # A reevaluation grows the UD from the mass at the previous one: the first (mass 0) does not.
    while (head := chain.state.head()) is not None and (
        reevaluated != (head.ud_reeval_time <= head.ud_time and head.mass_reeval > 0)
    ):
        chain.advance(DAY)
    with api_over(tmp_path / "db", chain) as api:
        async with http_client(api) as http:
            predicted = (await http.get("/currency")).json()["money"]["next_dividend_cents"]
        head = api.store.head()
        assert head is not None and chain.params is not None
        assert predicted == compute_next_dividend(head, chain.params)
    seen = len(chain.blocks)
    chain.advance(DAY)
    created = next(b for b in chain.blocks[seen:] if b.dividend is not None)
    assert created.dividend is not None
    assert predicted == created.dividend * 10**created.unit_base
    grew = predicted > head.dividend * 10**head.unit_base
    assert grew == reevaluated


async def test_an_empty_node_answers_what_it_has(tmp_path: Path) -> None:
    with api_over(tmp_path / "db", None) as api:
        async with http_client(api) as http:
            summary = (await http.get("/node")).json()
            assert summary["head"] is None and summary["currency"] is None
            unready = await http.get("/currency")
            assert unready.status_code == 503 and "no chain" in unready.json()["error"]
            assert (await http.get("/blocks")).json() == []
            history = await http.get(f"/history/{pubkey_to_base58(bytes(range(32)))}")
            assert history.status_code == 200 and history.json()["history"] == []
