"""The client API over a real store: every endpoint, and malformed or hostile requests (always a
4xx with a reason, never a 500)."""

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio

from node.api.app import build_app
from node.api.context import ApiContext
from node.api.serve import serve_api
from node.api.submit import MAX_BODY
from node.chain import ChainManager
from node.mempool import AdmissionResult, Mempool
from node.store import LevelStore
from protocol.documents.pending import PendingDocument
from protocol.keys import pubkey_display, pubkey_to_base58
from tests.protocol.chain_builder import Chain

DAY = 86400


@pytest.fixture(scope="module")
def chain() -> Chain:
    built = Chain(founders=4)
    built.advance(2 * DAY)
    built.write(transactions=[built.pay("alice", {"bob": 700}, comment="pain")])
    return built


@pytest.fixture
async def client(tmp_path: Path, chain: Chain) -> AsyncIterator[httpx.AsyncClient]:
    store = LevelStore.open(tmp_path / "db")
    manager = ChainManager(store)
    for block in chain.blocks:
        manager.add_block(block)
    pool = Mempool(store)

    async def submit(document: PendingDocument) -> AdmissionResult:
        return pool.add(document)

    app = build_app(ApiContext(store=store, chain=manager, mempool=pool, submit=submit))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://june") as http:
        yield http
    store.close()


async def test_node_summary_and_blocks(client: httpx.AsyncClient, chain: Chain) -> None:
    summary = (await client.get("/node")).json()
    assert summary["currency"] == "june-test"
    assert summary["head"]["number"] == chain.blocks[-1].number
    block = (await client.get("/blocks/0")).json()
    assert block["identities"] == ["alice", "bob", "carol", "dave"]
    raw = await client.get(f"/blocks/{chain.blocks[-1].number}/raw")
    assert raw.headers["content-type"] == "application/cbor" and raw.content == chain.blocks[-1].to_bytes()
    page = (await client.get("/blocks", params={"from": 1, "count": 3})).json()
    assert [b["number"] for b in page] == [1, 2, 3]


async def test_money_figures(client: httpx.AsyncClient, chain: Chain) -> None:
    money = (await client.get("/currency")).json()["money"]
    assert money["members"] == 4
    assert money["monetary_mass"] == sum(b.dividend or 0 for b in chain.blocks) * 4
    assert money["next_dividend_time"] > money["median_time"]
    assert money["mass_per_member"] == money["monetary_mass"] // 4


async def test_identity_by_uid_or_key_and_requirements(client: httpx.AsyncClient, chain: Chain) -> None:
    by_uid = (await client.get("/identities/alice")).json()
    by_key = (await client.get(f"/identities/{pubkey_display(chain.key('alice'))}")).json()
    assert by_uid == by_key and by_uid["status"] == "member"
    needs = (await client.get("/wot/bob/requirements")).json()
    assert {c["uid"] for c in needs["certifications"]["received"]} == {"alice", "carol", "dave"}
    assert all(c["expires_on"] > needs["median_time"] for c in needs["certifications"]["received"])
    assert needs["distance"]["outdistanced"] is False and needs["missing"] == []
    assert needs["membership"]["expires_on"] > needs["median_time"]


async def test_a_newcomer_sees_what_is_missing(client: httpx.AsyncClient, chain: Chain) -> None:
    eve = chain.identity("eve")
    response = await client.post(
        "/documents", content=eve.to_bytes(), headers={"content-type": "application/cbor"}
    )
    assert response.json()["result"] == "accepted"
    needs = (await client.get("/wot/eve/requirements")).json()
    assert needs["status"] == "pending"
    assert any("3 more certification" in m for m in needs["missing"])
    assert any("membership" in m for m in needs["missing"])
    assert (await client.get("/pending")).json()[0]["kind"] == "identity"


async def test_sources_and_history(client: httpx.AsyncClient, chain: Chain) -> None:
    bob = pubkey_to_base58(chain.key("bob"))
    sources = (await client.get(f"/sources/{bob}")).json()
    assert sources["balance"] == chain.balance("bob")
    assert any(s["type"] == "T" and s["cents"] == 700 for s in sources["sources"])
    history = (await client.get(f"/history/{bob}")).json()["history"]
    assert (
        history[0]["kind"] == "received" and history[0]["amount"] == 700 and history[0]["comment"] == "pain"
    )
    assert any(e["kind"] == "dividend" for e in history)
    alice = (await client.get(f"/history/{pubkey_display(chain.key('alice'))}")).json()["history"]
    assert alice[0]["kind"] == "sent" and alice[0]["amount"] == -700


async def test_submission_answers_accepted_known_or_the_broken_rule(
    client: httpx.AsyncClient, chain: Chain
) -> None:
    payment = chain.pay("carol", {"dave": 100})
    body = {"document": base64.b64encode(payment.to_bytes()).decode()}
    assert (await client.post("/documents", json=body)).json()["result"] == "accepted"
    assert (await client.post("/documents", json=body)).json()["result"] == "known"
    theft = chain.transaction(["dave"], payment.inputs, payment.outputs)
    refused = await client.post(
        "/documents", content=theft.to_bytes(), headers={"content-type": "application/cbor"}
    )
    assert refused.status_code == 422
    assert refused.json()["rule"] == "BR_G87" and refused.json()["result"] == "rejected"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/blocks/999999", {}, 404),
        ("get", "/blocks/minus-one", {}, 422),
        ("get", "/blocks/-1", {}, 422),
        ("get", "/blocks", {"params": {"count": 5000}}, 422),
        ("get", "/identities/nobody", {}, 404),
        ("get", "/sources/not-a-key", {}, 400),
        ("get", "/sources/" + "1" * 44 + ":XYZ", {}, 400),
        (
            "post",
            "/documents",
            {"content": b"\xff\x00garbage", "headers": {"content-type": "application/cbor"}},
            400,
        ),
        ("post", "/documents", {"json": {"document": "%%%"}}, 400),
        ("post", "/documents", {"json": {"nothing": 1}}, 400),
        ("post", "/documents", {"content": b"x", "headers": {"content-type": "text/plain"}}, 415),
        (
            "post",
            "/documents",
            {"content": b"\x00" * (MAX_BODY + 1), "headers": {"content-type": "application/cbor"}},
            413,
        ),
        ("get", "/no/such/endpoint", {}, 404),
    ],
)
async def test_bad_requests_get_a_4xx_with_a_reason(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    response = await getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response.json()["error"]


async def test_a_document_of_another_currency_or_forged_signature_is_refused(
    client: httpx.AsyncClient, chain: Chain
) -> None:
    from dataclasses import replace

    payment = chain.pay("dave", {"alice": 100})
    foreign = replace(payment, currency="other-money").signed_by(chain.keys["dave"])
    response = await client.post(
        "/documents", content=foreign.to_bytes(), headers={"content-type": "application/cbor"}
    )
    assert response.status_code == 400 and "currency" in response.json()["error"]
    forged = replace(payment, signatures=(bytes(64),))
    response = await client.post(
        "/documents", content=forged.to_bytes(), headers={"content-type": "application/cbor"}
    )
    assert response.status_code == 422 and response.json()["rule"] == "checkTxSignature"


async def test_openapi_schema_lists_every_endpoint(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/node",
        "/blocks/{number}",
        "/currency",
        "/identities/{who}",
        "/wot/{who}/requirements",
        "/sources/{key}",
        "/history/{key}",
        "/documents",
        "/pending",
    ):
        assert path in paths


async def test_served_over_hypercorn_on_loopback(tmp_path: Path, chain: Chain) -> None:
    store = LevelStore.open(tmp_path / "db")
    manager = ChainManager(store)
    manager.add_block(chain.blocks[0])
    pool = Mempool(store)

    async def submit(document: PendingDocument) -> AdmissionResult:
        return pool.add(document)

    app = build_app(ApiContext(store=store, chain=manager, mempool=pool, submit=submit))
    try:
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                urls = await nursery.start(serve_api, app, "127.0.0.1:0")
                async with httpx.AsyncClient(base_url=urls[0]) as http:
                    assert (await http.get("/node")).json()["head"]["number"] == 0
                nursery.cancel_scope.cancel()
    finally:
        store.close()
