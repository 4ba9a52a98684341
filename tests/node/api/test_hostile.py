"""Malformed and hostile requests: always a 4xx with a reason, never a 500 (an exception escaping
the app fails these tests, see `http_client`)."""

import base64
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.api.app import build_app
from node.api.context import ApiContext
from node.api.submit import MAX_BODY
from node.errors import StoreError
from protocol.keys import pubkey_to_base58
from tests.protocol.chain_builder import Chain

CBOR = {"content-type": "application/cbor"}
KEY = pubkey_to_base58(bytes(range(32)))
PER_KEY = (
    "/identities/{}",
    "/wot/{}/requirements",
    "/sources/{}",
    "/history/{}",
    "/blocks/{}",
    "/pending/{}",
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/blocks/999999", {}, 404),
        ("get", "/blocks/999999/raw", {}, 404),
        ("get", "/blocks/minus-one", {}, 422),
        ("get", "/blocks/-1", {}, 422),
        ("get", "/blocks/1.5", {}, 422),
        ("get", "/blocks/" + "9" * 40, {}, 422),
        ("get", "/blocks", {"params": {"from": "9" * 40}}, 422),
        ("get", "/blocks", {"params": {"count": 5000}}, 422),
        ("get", "/blocks", {"params": {"count": "many"}}, 422),
        ("get", "/identities/nobody", {}, 404),
        ("get", "/identities/" + "x" * 5000, {}, 404),
        ("get", f"/identities/{KEY}:XYZ", {}, 400),
        ("get", "/wot/nobody/requirements", {}, 404),
        ("get", "/sources/not-a-key", {}, 400),
        ("get", "/sources/" + "0" * 44, {}, 400),
        ("get", "/sources/" + "z" * 44, {}, 400),
        ("get", f"/sources/{KEY}:XYZ", {}, 400),
        ("get", "/history/not-a-key", {}, 400),
        ("get", f"/history/{KEY}", {"params": {"scan": 0}}, 422),
        ("get", f"/history/{KEY}", {"params": {"limit": 10**6}}, 422),
        ("get", "/pending", {"params": {"kind": "block"}}, 422),
        ("get", "/pending", {"params": {"issuer": "bad"}}, 400),
        ("get", "/pending/XYZ", {}, 400),
        ("get", "/pending/" + "ab" * 32, {}, 404),
        ("post", "/documents", {"content": b"\xff\x00garbage", "headers": CBOR}, 400),
        ("post", "/documents", {"content": b"", "headers": CBOR}, 400),
        ("post", "/documents", {"content": b"\x9f" * 1000 + b"\xff" * 1000, "headers": CBOR}, 400),
        ("post", "/documents", {"content": b"\x81" * 50_000 + b"\x00", "headers": CBOR}, 400),
        ("post", "/documents", {"json": {"document": "%%%"}}, 400),
        ("post", "/documents", {"json": {"document": 12}}, 400),
        ("post", "/documents", {"json": {"nothing": 1}}, 400),
        ("post", "/documents", {"json": [1, 2]}, 400),
        (
            "post",
            "/documents",
            {"content": b"[" * 80_000, "headers": {"content-type": "application/json"}},
            400,
        ),
        ("post", "/documents", {"content": b"x", "headers": {"content-type": "text/plain"}}, 415),
        ("post", "/documents", {"content": b"\x00" * (MAX_BODY + 1), "headers": CBOR}, 413),
        ("post", "/documents", {"json": {"document": "A" * (MAX_BODY + 4)}}, 413),
        ("put", "/documents", {}, 405),
        ("post", "/node", {}, 405),
        ("get", "/no/such/endpoint", {}, 404),
    ],
)
async def test_bad_requests_get_a_4xx_with_a_reason(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = await client.request(method.upper(), path, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]


async def test_a_body_without_a_declared_length_is_capped_too(client: httpx.AsyncClient) -> None:
    async def stream() -> Any:
        for _ in range(MAX_BODY // 1000 + 2):
            yield b"\x00" * 1000

    response = await client.post("/documents", content=stream(), headers=CBOR)
    assert response.status_code == 413


@FUZZ
@given(segment=st.text(min_size=1, max_size=60).filter(lambda s: s not in (".", "..")))
async def test_any_path_segment_is_answered(client: httpx.AsyncClient, segment: str) -> None:
    quoted = quote(segment, safe="")
    for template in PER_KEY:
        response = await client.get(template.format(quoted))
        assert response.status_code in (200, 400, 404, 422), (template, segment, response.text)


@FUZZ
@given(body=st.binary(max_size=300))
async def test_any_bytes_submitted_are_refused_plainly(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/documents", content=body, headers=CBOR)
    assert response.status_code == 400 and response.json()["result"] == "rejected"
    encoded = {"document": base64.b64encode(body).decode()}
    assert (await client.post("/documents", json=encoded)).status_code == 400


@FUZZ
@given(data=st.data())
async def test_a_tampered_document_is_refused(
    client: httpx.AsyncClient, chain: Chain, data: st.DataObject
) -> None:
    raw = bytearray(chain.pay("dave", {"alice": 100}).to_bytes())
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= data.draw(st.integers(1, 255))
    response = await client.post("/documents", content=bytes(raw), headers=CBOR)
    assert response.status_code in (400, 422), response.text
    assert response.json()["result"] == "rejected"


async def test_the_schema_has_no_place_for_a_secret(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    inputs = [p["name"] for path in paths.values() for op in path.values() for p in op.get("parameters", [])]
    for path in paths.values():
        for operation in path.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                inputs += content["schema"].get("properties", {})
    assert "document" in inputs and "issuer" in inputs
    for name in inputs:
        assert not any(word in name.lower() for word in ("secret", "seed", "password", "private", "salt"))


async def test_a_failure_of_the_node_is_a_logged_json_500(
    api: ApiContext, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise StoreError("disk on fire")

    monkeypatch.setattr(api.store, "head_pointer", broken)
    transport = httpx.ASGITransport(app=build_app(api), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://june") as http:
        response = await http.get("/node")
    assert response.status_code == 500 and "disk" not in response.json()["error"]
    assert "disk on fire" in caplog.text


async def test_a_stray_slash_is_a_plain_404_not_a_redirect(client: httpx.AsyncClient) -> None:
    for path in ("/blocks/%2F", "/node/", "/blocks/"):
        response = await client.get(path)
        assert response.status_code == 404 and response.json()["error"]
