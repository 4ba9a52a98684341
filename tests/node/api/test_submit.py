"""Submitting signed documents, and reading the pending pool."""

import base64
from dataclasses import replace

import httpx

from protocol.keys import pubkey_display
from tests.protocol.chain_builder import Chain

CBOR = {"content-type": "application/cbor"}


async def test_accepted_then_known_as_cbor_or_json(client: httpx.AsyncClient, chain: Chain) -> None:
    payment = chain.pay("carol", {"dave": 100})
    body = {"document": base64.b64encode(payment.to_bytes()).decode()}
    first = (await client.post("/documents", json=body)).json()
    assert first == {"result": "accepted", "hash": payment.hash.hex().upper(), "kind": "transaction"}
    again = await client.post("/documents", content=payment.to_bytes(), headers=CBOR)
    assert again.status_code == 200 and again.json()["result"] == "known"


async def test_a_broken_rule_is_named_in_plain_words(client: httpx.AsyncClient, chain: Chain) -> None:
    payment = chain.pay("carol", {"dave": 100})
    theft = chain.transaction(["dave"], payment.inputs, payment.outputs)
    refused = await client.post("/documents", content=theft.to_bytes(), headers=CBOR)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["result"] == "rejected" and answer["rule"] == "BR_G88" and "input 0" in answer["error"]
    await client.post("/documents", content=payment.to_bytes(), headers=CBOR)
    double = await client.post("/documents", content=chain.pay("carol", {"bob": 1}).to_bytes(), headers=CBOR)
    assert double.status_code == 422 and double.json()["rule"] == "BR_G87"
    assert "not available" in double.json()["error"]


async def test_other_currency_or_forged_signature_is_refused(client: httpx.AsyncClient, chain: Chain) -> None:
    payment = chain.pay("dave", {"alice": 100})
    foreign = replace(payment, currency="other-money").signed_by(chain.keys["dave"])
    response = await client.post("/documents", content=foreign.to_bytes(), headers=CBOR)
    assert response.status_code == 400 and "currency" in response.json()["error"]
    forged = replace(payment, signatures=(bytes(64),))
    response = await client.post("/documents", content=forged.to_bytes(), headers=CBOR)
    assert response.status_code == 422 and response.json()["rule"] == "checkTxSignature"
    assert (await client.get("/pending")).json() == []


async def test_pending_documents_listed_filtered_and_fetched(client: httpx.AsyncClient, chain: Chain) -> None:
    frank = chain.identity("frank")
    payment = chain.pay("bob", {"carol": 5})
    for document in (frank, payment):
        assert (await client.post("/documents", content=document.to_bytes(), headers=CBOR)).status_code == 200
    listed = (await client.get("/pending")).json()
    assert {d["kind"] for d in listed} == {"identity", "transaction"}
    only = (await client.get("/pending", params={"kind": "identity"})).json()
    assert only == [
        {
            "kind": "identity",
            "hash": frank.hash.hex().upper(),
            "issuers": [pubkey_display(chain.key("frank"))],
        }
    ]
    by_bob = (await client.get("/pending", params={"issuer": pubkey_display(chain.key("bob"))})).json()
    assert [d["hash"] for d in by_bob] == [payment.hash.hex().upper()]
    raw = await client.get(f"/pending/{payment.hash.hex()}")
    assert raw.headers["content-type"] == "application/cbor" and raw.content == payment.to_bytes()
    assert (await client.get("/node")).json()["pending"] == 2
