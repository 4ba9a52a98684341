"""A flood from outside: the real app with its default limits, served by hypercorn on 127.0.0.1, and
1,000 requests at once from one client for heavy pages (100 blocks full of transactions, about
0.1 s of the node's time each). Every request is answered, 200, 429 or 503, within a bounded time;
none is dropped; and the node answers normally right after."""

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

from node.api.app import build_app
from node.api.context import ApiContext
from node.api.serve import serve_api
from tests.node.api.conftest import api_over
from tests.protocol.chain_builder import Chain

DAY = 86400
REQUESTS = 1000
#: Connections of each of the client's pools.
LANE = 50
#: Seconds within which every request must be answered (each client waits up to twice that).
ANSWERED_WITHIN = 20.0
PAYERS = ("alice", "bob", "carol", "dave")


def busy_chain(blocks: int = 150) -> Chain:
    """A chain whose blocks each hold four payments of three outputs (a page of 100: ~300 kB)."""
    chain = Chain(founders=4)
    chain.advance(DAY)
    for n in range(blocks):
        payments = [
            chain.pay(payer, {other: 1 for other in PAYERS if other != payer}, comment=f"flood {n} " * 6)
            for payer in PAYERS
        ]
        chain.write(transactions=payments)
    return chain


@pytest.fixture(scope="module")
def heavy_chain() -> Chain:
    return busy_chain()


@pytest.fixture
def heavy_api(tmp_path: Path, heavy_chain: Chain) -> Iterator[ApiContext]:
    with api_over(tmp_path / "db", heavy_chain) as api:
        yield api


@pytest.mark.slow
async def test_a_flood_of_heavy_requests_is_answered_not_dropped(
    heavy_api: ApiContext, heavy_chain: Chain
) -> None:
    last = len(heavy_chain.blocks) - 100
    answers: list[tuple[int, float, str | None, str]] = []
    failures: list[str] = []
    go = trio.Event()

    async def fetch(http: httpx.AsyncClient, n: int) -> None:
        await go.wait()
        start = time.monotonic()
        try:
            response = await http.get("/blocks", params={"from": n % last, "count": 100})
        except httpx.HTTPError as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            return
        error = "" if response.status_code == 200 else response.json()["error"]
        answers.append(
            (response.status_code, time.monotonic() - start, response.headers.get("retry-after"), error)
        )

    with trio.fail_after(3 * ANSWERED_WITHIN):
        async with trio.open_nursery() as server:
            urls = await server.start(serve_api, build_app(heavy_api), "127.0.0.1:0")
            # one client address, several httpx pools: a pool looks through all its connections for
            # each request, so a single pool of 1,000 would spend a minute of this process's time
            # (the server's too) on its own bookkeeping
            pool = httpx.Limits(max_connections=LANE, max_keepalive_connections=LANE)
            timeout = httpx.Timeout(2 * ANSWERED_WITHIN)
            lanes = [
                httpx.AsyncClient(base_url=urls[0], limits=pool, timeout=timeout)
                for _ in range(REQUESTS // LANE)
            ]
            async with trio.open_nursery() as clients:
                for n in range(REQUESTS):
                    clients.start_soon(fetch, lanes[n % len(lanes)], n)
                await trio.testing.wait_all_tasks_blocked()
                go.set()
            start = time.monotonic()
            async with httpx.AsyncClient(base_url=urls[0]) as http:
                after = await http.get("/node")
            after_time = time.monotonic() - start
            for lane in lanes:
                await lane.aclose()
            server.cancel_scope.cancel()

    statuses = Counter(status for status, *_ in answers)
    slowest = max(elapsed for _, elapsed, *_ in answers)
    print(f"\n{REQUESTS} requests: {dict(statuses)}, slowest {slowest:.2f} s; /node {after_time:.3f} s")
    assert failures == [] and len(answers) == REQUESTS
    assert set(statuses) <= {200, 429, 503} and statuses[200] >= 32 and statuses[429] > 0
    assert slowest < ANSWERED_WITHIN
    for status, _elapsed, retry_after, error in answers:
        if status != 200:
            assert retry_after is not None and int(retry_after) >= 1 and error
    assert after.status_code == 200 and after.json()["head"]["number"] == heavy_chain.blocks[-1].number
