"""The API served for real: hypercorn's trio worker on 127.0.0.1, a free port, stopped cleanly."""

from functools import partial
from pathlib import Path

import httpx
import pytest
import trio

from node.api.app import build_app
from node.api.serve import serve_api
from tests.node.api.conftest import api_over
from tests.protocol.chain_builder import Chain


async def test_served_on_loopback_and_stopped_by_its_shutdown_event(tmp_path: Path, chain: Chain) -> None:
    shutdown = trio.Event()
    with api_over(tmp_path / "db", chain) as api, trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(partial(serve_api, build_app(api), "127.0.0.1:0", shutdown=shutdown))
            assert urls[0].startswith("http://127.0.0.1:") and not urls[0].endswith(":0")
            async with httpx.AsyncClient(base_url=urls[0]) as http:
                answer = await http.get("/node")
                assert answer.json()["head"]["number"] == chain.blocks[-1].number
                unknown = await http.get("/wp-admin")
                assert unknown.status_code == 404
                # last on this connection: the server answers 413 before reading the body, then
                # closes the connection, so a request after it could meet a closed socket
                refused = await http.post("/documents", content=b"\x00" * 200_000)
                assert refused.status_code == 413
                # over real HTTP too, every answer says it is a June node's
                assert all(r.headers["june-api"] == "1" for r in (answer, refused, unknown))
            shutdown.set()  # the nursery ends only once the server has stopped
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=urls[0]) as http:
                await http.get("/node")


async def test_served_then_cancelled_with_the_node(tmp_path: Path, chain: Chain) -> None:
    with api_over(tmp_path / "db", chain) as api, trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(serve_api, build_app(api), "127.0.0.1:0")
            async with httpx.AsyncClient(base_url=urls[0]) as http:
                assert (await http.get("/currency")).status_code == 200
            nursery.cancel_scope.cancel()
