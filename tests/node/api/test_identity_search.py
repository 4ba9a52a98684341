"""The partial lookup of identities: by part of a uid (any case) or the start of a key, written or
pending, the uid asked first, then uids starting with it, then the others."""

import httpx
import pytest

from node.api import wot
from protocol.documents import Identity
from protocol.keys import pubkey_display, pubkey_to_base58
from tests.node.api.conftest import EVE_UID
from tests.protocol.chain_builder import CURRENCY, Chain


async def publish(client: httpx.AsyncClient, chain: Chain, name: str, uid: str) -> None:
    identity = Identity.create(chain.keys[name], CURRENCY, uid, chain.ref())
    response = await client.post(
        "/documents", content=identity.to_bytes(), headers={"content-type": "application/cbor"}
    )
    assert response.json()["result"] == "accepted", response.json()


async def test_search_orders_exact_then_prefix_then_others(client: httpx.AsyncClient, chain: Chain) -> None:
    assert "ali" not in EVE_UID.lower()
    for name, uid in (("grace", "bali"), ("heidi", "Ali2"), ("ivan", "alibaba"), ("judy", "ali")):
        await publish(client, chain, name, uid)
    answer = (await client.get("/identities", params={"search": "ALI"})).json()
    assert [i["uid"] for i in answer["identities"]] == ["ali", "Ali2", "alibaba", "alice", "bali"]
    assert answer["more"] is False
    alice = answer["identities"][3]
    assert alice == {"uid": "alice", "pubkey": pubkey_display(chain.key("alice")), "status": "member"}
    assert {i["status"] for i in answer["identities"] if i["uid"] != "alice"} == {"pending"}
    limited = (await client.get("/identities", params={"search": "ali", "limit": 2})).json()
    assert [i["uid"] for i in limited["identities"]] == ["ali", "Ali2"] and limited["more"] is True
    exact = (await client.get("/identities", params={"search": "ali", "limit": 5})).json()
    assert len(exact["identities"]) == 5 and exact["more"] is False


async def test_search_by_the_start_of_a_key(client: httpx.AsyncClient, chain: Chain) -> None:
    bob = pubkey_to_base58(chain.key("bob"))
    found = (await client.get("/identities", params={"search": bob[:6]})).json()["identities"]
    assert {"uid": "bob", "pubkey": pubkey_display(chain.key("bob")), "status": "member"} in found
    # eve's uid is frank's key: searching by it finds eve by her uid
    found = (await client.get("/identities", params={"search": EVE_UID})).json()["identities"]
    assert [i["uid"] for i in found] == [EVE_UID]


async def test_search_without_matches_and_bad_parameters(client: httpx.AsyncClient) -> None:
    assert (await client.get("/identities", params={"search": "zzz"})).json() == {
        "identities": [],
        "more": False,
    }
    cases: list[dict[str, str | int]] = [
        {"search": ""},
        {"search": "x" * 101},
        {},
        {"search": "a", "limit": 101},
        {"search": "a", "limit": 0},
    ]
    for params in cases:
        response = await client.get("/identities", params=params)
        assert response.status_code == 422, params


async def test_a_long_search_takes_turns(
    client: httpx.AsyncClient, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns: list[None] = []

    async def counted() -> None:
        turns.append(None)

    monkeypatch.setattr(wot, "SEARCH_TURN", 2)
    monkeypatch.setattr(wot, "take_turn", counted)
    found = (await client.get("/identities", params={"search": "a"})).json()["identities"]
    assert {"alice", "carol", "dave"} <= {i["uid"] for i in found}
    assert len(turns) == 5 // 2  # five written identities, a turn every second one
