"""Every answer of the API carries `June-Api: 1`: the wallet takes an answer without it (a web
site's or a proxy's page, a wrong port) as "not a June node" and tries its next node."""

from pathlib import Path

import httpx
import pytest
import trio

from node.api.app import API_HEADER, API_VERSION, build_app
from node.api.context import ApiContext
from node.api.limits import Limits
from node.errors import StoreError
from node.mempool import AdmissionResult
from protocol.documents.pending import PendingDocument
from protocol.keys import pubkey_to_base58
from tests.node.api.conftest import EVE_UID, api_over
from tests.protocol.chain_builder import Chain


def marked(response: httpx.Response) -> bool:
    return bool(response.headers.get("June-Api") == "1")


def test_the_header_is_defined_once() -> None:
    assert (API_HEADER, API_VERSION) == ("june-api", "1")


async def test_views_refusals_and_pages_carry_the_header(client: httpx.AsyncClient, chain: Chain) -> None:
    alice = pubkey_to_base58(chain.key("alice"))
    answers = {
        200: [
            await client.get("/node"),
            await client.get(f"/sources/{alice}"),
            await client.get("/openapi.json"),
        ],
        "pages": [
            await client.get("/docs"),
            await client.get("/redoc"),
            await client.get("/static/redoc/LICENSE"),
        ],
        400: [await client.get("/sources/notakey"), await client.get(f"/identities/{alice}:ZZZ")],
        404: [
            await client.get("/blocks/999999"),
            await client.get("/no/such/route"),
            await client.get("/nobody"),
        ],
        405: [await client.delete("/node")],
        409: [await client.get(f"/identities/{EVE_UID}")],
        415: [await client.post("/documents", content=b"x", headers={"content-type": "text/plain"})],
        422: [await client.get("/blocks/abc"), await client.get("/identities", params={"search": ""})],
    }
    for status, responses in answers.items():
        for response in responses:
            assert response.status_code == (200 if status == "pages" else status), response.url
            assert marked(response), (status, response.url, response.headers)
            assert list(response.headers).count("june-api") == 1


async def test_a_failure_of_the_node_carries_it(api: ApiContext, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise StoreError("disk on fire")

    monkeypatch.setattr(api.store, "head_pointer", broken)
    transport = httpx.ASGITransport(app=build_app(api), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://june") as http:
        response = await http.get("/node")
    assert response.status_code == 500 and marked(response)


async def test_flood_refusals_carry_it(tmp_path: Path, chain: Chain) -> None:
    now = [1000.0]
    with api_over(tmp_path / "db", chain) as api:
        entered, release = trio.Event(), trio.Event()

        async def held_submit(_document: PendingDocument) -> AdmissionResult:
            entered.set()
            await release.wait()
            return api.mempool.add(_document)

        api.submit = held_submit
        limits = Limits(concurrency=1, slot_wait=0, rate=1.0, burst=3)
        app = build_app(api, limits=limits, clock=lambda: now[0])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://june") as http:
            first = await http.get("/node")
            async with trio.open_nursery() as nursery:
                document = chain.identity("frank").to_bytes()

                async def send() -> None:
                    await http.post(
                        "/documents", content=document, headers={"content-type": "application/cbor"}
                    )

                nursery.start_soon(send)
                await entered.wait()
                busy = await http.get("/node")  # the one slot is taken: 503 at once
                release.set()
            too_many = await http.get("/node")  # the bucket of three is empty: 429
    assert first.status_code == 200 and marked(first)
    assert busy.status_code == 503 and marked(busy)
    assert too_many.status_code == 429 and marked(too_many) and too_many.headers["retry-after"] == "1"
