"""The flood limits' middleware on its own: a fake clock for the buckets, trio's autojump clock for
the waits for a slot, and a stand-in app that answers 200 (or waits until told to)."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from starlette.types import Receive, Scope, Send

from node.api.app import build_app
from node.api.limits import ClientBuckets, FloodGuard, Limits, client_key
from tests.node.api.conftest import api_over
from tests.protocol.chain_builder import Chain


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class StandIn:
    """An app that answers 200 `{"ok": true}`, once `release` is set if `hold` is."""

    hold: bool = False
    release: trio.Event = field(default_factory=trio.Event)
    entered: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        if self.hold:
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"ok": true}'})


async def call(guard: FloodGuard, host: str = "127.0.0.1") -> Answer:
    """One GET through `guard` from `host`, as an ASGI server would make it."""
    scope = {"type": "http", "method": "GET", "path": "/node", "headers": [], "client": (host, 40000)}
    started: dict[str, Any] = {}
    body = b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal body
        if message["type"] == "http.response.start":
            started.update(message)
        else:
            body += message.get("body", b"")

    await guard(scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in started["headers"]}
    return Answer(started["status"], headers, json.loads(body))


def guard(clock: FakeClock, app: StandIn | None = None, **limits: Any) -> FloodGuard:
    return FloodGuard(app or StandIn(), Limits(**limits), clock=clock)


async def test_a_client_has_its_burst_then_a_429_with_a_retry_after() -> None:
    clock = FakeClock()
    limited = guard(clock, rate=50, burst=200)
    for _ in range(200):
        assert (await call(limited)).status == 200
    refused = await call(limited)
    assert refused.status == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/json"
    assert "too many requests" in refused.body["error"]
    # another address has its own bucket
    assert (await call(limited, "127.0.0.2")).status == 200


async def test_the_bucket_refills_at_the_rate() -> None:
    clock = FakeClock()
    limited = guard(clock, rate=50, burst=200)
    for _ in range(200):
        await call(limited)
    clock.advance(0.1)  # five tokens
    answers = [(await call(limited)).status for _ in range(6)]
    assert answers == [200] * 5 + [429]
    clock.advance(60)  # never more than the burst
    answers = [(await call(limited)).status for _ in range(201)]
    assert answers.count(200) == 200 and answers[-1] == 429


async def test_retry_after_is_the_whole_seconds_until_the_next_token() -> None:
    clock = FakeClock()
    limited = guard(clock, rate=0.1, burst=2)  # a token every 10 s
    assert [(await call(limited)).status for _ in range(2)] == [200, 200]
    assert (await call(limited)).headers["retry-after"] == "10"
    clock.advance(3.5)
    assert (await call(limited)).headers["retry-after"] == "7"  # 6.5 s, rounded up
    clock.advance(6.4)
    assert (await call(limited)).headers["retry-after"] == "1"  # 0.1 s, still at least 1
    clock.advance(0.1)
    assert (await call(limited)).status == 200


async def test_refusals_cost_the_client_nothing() -> None:
    clock = FakeClock()
    limited = guard(clock, rate=1, burst=1)
    assert (await call(limited)).status == 200
    for _ in range(50):
        assert (await call(limited)).status == 429
    clock.advance(1)
    assert (await call(limited)).status == 200


async def test_the_client_table_is_bounded_and_forgets_idle_clients() -> None:
    clock = FakeClock()
    limited = guard(clock, rate=10, burst=20, max_clients=100)
    assert limited.buckets is not None
    for n in range(1000):
        await call(limited, f"10.0.{n // 256}.{n % 256}")
    assert len(limited.buckets) == 100
    clock.advance(0.05)
    await call(limited, "127.0.0.1")
    assert len(limited.buckets) == 101 - 1  # still full: the least recently seen went out
    clock.advance(2)  # 20 tokens at 10 a second: every bucket is full again, as if never seen
    await call(limited, "127.0.0.1")
    assert len(limited.buckets) == 1


def test_buckets_forget_the_idle_without_forgetting_the_busy() -> None:
    clock = FakeClock()
    buckets = ClientBuckets(rate=1, burst=5, max_clients=10, clock=clock)
    buckets.take("idle")
    for _ in range(5):
        buckets.take("busy")
    clock.advance(1)  # "idle" is full again, "busy" has 1 token of 5
    buckets.take("other")
    assert len(buckets) == 2
    assert buckets.take("busy") == 0 and buckets.take("busy") == 1


def test_clients_are_addresses_and_an_ipv6_one_its_64() -> None:
    def key(host: str) -> str:
        return client_key({"type": "http", "client": (host, 1)})

    assert key("127.0.0.1") == "127.0.0.1"
    assert key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert key("2001:db8:1:3::1") != key("2001:db8:1:2::1")
    assert key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key({"type": "http", "client": None}) == "unknown"
    assert key("unix-socket") == "unix-socket"


async def test_a_request_without_a_slot_in_time_is_a_503(autojump_clock: trio.abc.Clock) -> None:
    held = StandIn(hold=True)
    limited = guard(FakeClock(), held, concurrency=2, slot_wait=1.5)
    answers: list[Answer] = []
    async with trio.open_nursery() as nursery:
        for _ in range(2):
            nursery.start_soon(lambda: _append(answers, call(limited)))
        await trio.testing.wait_all_tasks_blocked()
        assert held.entered == 2 and limited.busy == 2
        start = trio.current_time()
        refused = await call(limited)
        assert refused.status == 503 and refused.headers["retry-after"] == "1"
        assert "busy" in refused.body["error"]
        assert trio.current_time() - start == pytest.approx(1.5)
        assert held.entered == 2  # the app never saw it

        # a request whose slot frees within the wait is served
        waiting: list[Answer] = []
        nursery.start_soon(lambda: _append(waiting, call(limited)))
        await trio.sleep(1)
        held.release.set()
    assert [a.status for a in answers + waiting] == [200, 200, 200]
    assert limited.busy == 0


async def test_no_wait_at_all_still_takes_a_free_slot(autojump_clock: trio.abc.Clock) -> None:
    limited = guard(FakeClock(), concurrency=1, slot_wait=0)
    assert (await call(limited)).status == 200


async def _append(answers: list[Answer], request: Any) -> None:
    answers.append(await request)


async def test_other_than_http_goes_through() -> None:
    seen = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    limited = FloodGuard(app, Limits(rate=1, burst=1))

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        pass

    for _ in range(3):
        await limited({"type": "lifespan"}, nothing, ignore)
    assert seen == ["lifespan"] * 3


def test_limits_are_checked() -> None:
    for bad in ({"concurrency": 0}, {"rate": 0}, {"rate": -1.0}, {"burst": 0}, {"max_clients": 0}):
        with pytest.raises(ValueError):
            Limits(**bad)
    assert Limits(rate=None).rate is None


async def test_the_app_applies_the_limits_it_is_built_with(tmp_path: Path, chain: Chain) -> None:
    clock = FakeClock()
    with api_over(tmp_path / "db", chain) as api:
        app = build_app(api, limits=Limits(rate=1, burst=2), clock=clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://june") as http:
            assert [(await http.get("/node")).status_code for _ in range(2)] == [200, 200]
            refused = await http.get("/currency")
            assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
            assert refused.json()["error"]
            clock.advance(1)
            assert (await http.get("/currency")).status_code == 200


async def test_without_a_rate_only_the_cap_applies(tmp_path: Path, chain: Chain) -> None:
    with api_over(tmp_path / "db", chain) as api:
        app = build_app(api, limits=Limits(rate=None, burst=1))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://june") as http:
            assert {(await http.get("/node")).status_code for _ in range(20)} == {200}
