"""Identities by uid or key, and the requirements of an identity to be a member."""

import httpx

from protocol.keys import pubkey_display, pubkey_to_base58
from tests.node.api.conftest import EVE_UID
from tests.protocol.chain_builder import Chain


async def test_identity_by_uid_key_or_checked_key(client: httpx.AsyncClient, chain: Chain) -> None:
    by_uid = (await client.get("/identities/alice")).json()
    by_key = (await client.get(f"/identities/{pubkey_to_base58(chain.key('alice'))}")).json()
    by_checked_key = (await client.get(f"/identities/{pubkey_display(chain.key('alice'))}")).json()
    assert by_uid == by_key == by_checked_key
    assert by_uid["status"] == "member" and by_uid["written_on"] == 0
    assert by_uid["membership"]["expires_on"] > chain.blocks[-1].median_time


async def test_a_uid_that_is_another_key_is_ambiguous(client: httpx.AsyncClient, chain: Chain) -> None:
    assert pubkey_to_base58(chain.key("frank")) == EVE_UID
    for path in (f"/identities/{EVE_UID}", f"/wot/{EVE_UID}/requirements"):
        response = await client.get(path)
        assert response.status_code == 409, path
        assert (
            "@" + EVE_UID in response.json()["error"]
            and pubkey_display(chain.key("frank")) in response.json()["error"]
        )
    eve = (await client.get(f"/identities/@{EVE_UID}")).json()
    assert eve["pubkey"] == pubkey_display(chain.key("eve")) and eve["status"] == "member"
    needs = (await client.get(f"/wot/@{EVE_UID}/requirements")).json()
    assert needs["pubkey"] == pubkey_display(chain.key("eve"))
    # frank, named by his key with its checksum: no identity yet, then a pending one
    frank_key = pubkey_display(chain.key("frank"))
    assert (await client.get(f"/identities/{frank_key}")).status_code == 404
    frank = chain.identity("frank")
    await client.post("/documents", content=frank.to_bytes(), headers={"content-type": "application/cbor"})
    found = (await client.get(f"/identities/{frank_key}")).json()
    assert found["uid"] == "frank" and found["status"] == "pending"
    # a pending identity is found by its uid, and the uid of one, if it is a key, is ambiguous too
    assert (await client.get("/identities/@frank")).json()["pubkey"] == frank_key


async def test_a_malformed_key_with_checksum_is_400(client: httpx.AsyncClient, chain: Chain) -> None:
    alice = pubkey_to_base58(chain.key("alice"))
    for who in (f"{alice}:ZZZ", "notakey:ABC"):
        response = await client.get(f"/identities/{who}")
        assert response.status_code == 400 and "not a public key" in response.json()["error"]
    assert (await client.get("/identities/@nobody")).status_code == 404


async def test_requirements_of_a_member(client: httpx.AsyncClient, chain: Chain) -> None:
    needs = (await client.get("/wot/bob/requirements")).json()
    received = needs["certifications"]["received"]
    assert {c["uid"] for c in received} == {"alice", "carol", "dave"}
    assert all(c["expires_on"] > needs["median_time"] for c in received)
    assert {c["uid"] for c in needs["certifications"]["issued"]} == {"alice", "carol", "dave", EVE_UID}
    assert needs["certifications"]["needed"] == 3
    assert needs["distance"]["outdistanced"] is False and needs["missing"] == []
    assert needs["membership"]["expires_on"] > needs["median_time"]
    assert needs["status"] == "member"


async def test_a_newcomer_sees_what_is_missing(client: httpx.AsyncClient, chain: Chain) -> None:
    frank = chain.identity("frank")
    response = await client.post(
        "/documents", content=frank.to_bytes(), headers={"content-type": "application/cbor"}
    )
    assert response.json()["result"] == "accepted"
    needs = (await client.get("/wot/frank/requirements")).json()
    assert needs["status"] == "pending"
    assert needs["certifications"]["received"] == []
    assert any("3 more certification" in m for m in needs["missing"])
    assert any("membership" in m for m in needs["missing"])
    assert needs["distance"]["outdistanced"] is True
    cert = chain.cert("alice", "frank")
    accepted = await client.post(
        "/documents", content=cert.to_bytes(), headers={"content-type": "application/cbor"}
    )
    assert accepted.json()["result"] == "accepted", accepted.json()
    needs = (await client.get(f"/wot/{pubkey_display(chain.key('frank'))}/requirements")).json()
    assert needs["certifications"]["pending"] == [pubkey_display(chain.key("alice"))]
    assert any("2 more certification" in m for m in needs["missing"])
    identity = (await client.get("/identities/frank")).json()
    assert identity["status"] == "pending" and identity["identity_hash"] == frank.hash.hex().upper()


async def test_unknown_identities_are_404(client: httpx.AsyncClient) -> None:
    for who in ("nobody", "0" * 44, "1" * 44):
        for path in (f"/identities/{who}", f"/wot/{who}/requirements"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "no identity" in response.json()["error"]
