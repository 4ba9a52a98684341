"""A key's sources and history."""

from typing import Any

import httpx
import pytest

from node.api.context import ApiContext
from protocol.keys import pubkey_display, pubkey_to_base58
from tests.protocol.chain_builder import Chain


async def test_sources_of_a_key(client: httpx.AsyncClient, chain: Chain) -> None:
    bob = pubkey_to_base58(chain.key("bob"))
    sources = (await client.get(f"/sources/{bob}")).json()
    assert sources["pubkey"] == pubkey_display(chain.key("bob"))
    assert sources["balance"] == chain.balance("bob") == sum(s["cents"] for s in sources["sources"])
    assert any(s["type"] == "T" and s["cents"] == 700 for s in sources["sources"])
    assert {s["type"] for s in sources["sources"]} == {"T", "D"}


async def test_sources_are_listed_a_page_at_a_time(client: httpx.AsyncClient, chain: Chain) -> None:
    bob = pubkey_to_base58(chain.key("bob"))
    whole = (await client.get(f"/sources/{bob}")).json()
    assert whole["more"] is False and len(whole["sources"]) >= 2
    pages, skip = [], 0
    while True:
        page = (await client.get(f"/sources/{bob}?limit=1&skip={skip}")).json()
        assert page["balance"] == whole["balance"]  # the running total, whatever the page
        pages += page["sources"]
        skip += 1
        if not page["more"]:
            break
    assert sorted(map(str, pages)) == sorted(map(str, whole["sources"]))


async def test_sources_count_pending_payments(client: httpx.AsyncClient, chain: Chain) -> None:
    payment = chain.pay("carol", {"dave": 123})
    await client.post("/documents", content=payment.to_bytes(), headers={"content-type": "application/cbor"})
    carol = (await client.get(f"/sources/{pubkey_display(chain.key('carol'))}")).json()
    dave = (await client.get(f"/sources/{pubkey_display(chain.key('dave'))}")).json()
    assert carol["balance"] == chain.balance("carol") - 123
    assert dave["balance"] == chain.balance("dave") + 123


async def test_history_of_payer_and_payee(client: httpx.AsyncClient, chain: Chain) -> None:
    paying = next(b for b in chain.blocks if b.transactions)
    bob = (await client.get(f"/history/{pubkey_to_base58(chain.key('bob'))}")).json()
    received = [e for e in bob["history"] if e["kind"] == "received"]
    assert received == [
        {
            "kind": "received",
            "block": paying.number,
            "time": paying.median_time,
            "tx": paying.transactions[0].hash.hex().upper(),
            "amount": 700,
            "amount_text": "7.00",
            "counterparts": [pubkey_display(chain.key("alice"))],
            "comment": "pain",
        }
    ]
    dividends = [e for e in bob["history"] if e["kind"] == "dividend"]
    assert sum(e["amount"] for e in dividends) == chain.balance("bob") - 700
    assert [e["block"] for e in bob["history"]] == sorted((e["block"] for e in bob["history"]), reverse=True)
    alice = (await client.get(f"/history/{pubkey_display(chain.key('alice'))}")).json()["history"]
    sent = [e for e in alice if e["kind"] == "sent"]
    assert len(sent) == 1 and sent[0]["amount"] == -700
    # Alice spent her UDs in that payment: they are still in her history.
    alice_dividends = [e for e in alice if e["kind"] == "dividend"]
    assert {e["block"] for e in alice_dividends} == {e["block"] for e in dividends}


async def test_history_window_and_limit(client: httpx.AsyncClient, chain: Chain) -> None:
    bob = pubkey_to_base58(chain.key("bob"))
    head = chain.blocks[-1].number
    whole = (await client.get(f"/history/{bob}")).json()
    assert whole["scanned_from"] == 0 and whole["scanned_to"] == head
    window = (await client.get(f"/history/{bob}", params={"scan": 3})).json()
    assert window["scanned_from"] == head - 2
    assert window["history"] == [e for e in whole["history"] if e["block"] >= head - 2]
    first = (await client.get(f"/history/{bob}", params={"limit": 1})).json()["history"]
    assert first == whole["history"][:1]


async def test_history_decodes_only_blocks_that_name_the_key(
    client: httpx.AsyncClient, api: ApiContext, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[int] = []
    read = api.store.block

    def counting(number: int) -> Any:
        decoded.append(number)
        return read(number)

    monkeypatch.setattr(api.store, "block", counting)
    stranger = (await client.get(f"/history/{pubkey_to_base58(chain.key('oscar'))}")).json()
    assert stranger["history"] == [] and decoded == []
    await client.get(f"/history/{pubkey_to_base58(chain.key('bob'))}")
    # Bob is named in the genesis (his identity), the payment to him and his certification of eve.
    naming_bob = [b.number for b in chain.blocks if b.number == 0 or b.transactions or b.certifications]
    assert sorted(decoded) == naming_bob and len(naming_bob) == 3


async def test_history_gives_up_when_the_chain_keeps_moving(
    client: httpx.AsyncClient, api: ApiContext, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.store, "block_hash", lambda _number: b"\x01" * 32)
    response = await client.get(f"/history/{pubkey_to_base58(chain.key('bob'))}")
    assert response.status_code == 503 and "try again" in response.json()["error"]
