"""Flood limits of the client API, as one pure-ASGI middleware (`FloodGuard`) around the app:

- a per-client rate limit: a token bucket per client address (`rate` requests a second sustained,
  `burst` at once), beyond which a request is answered 429 at once;
- a concurrency cap: at most `concurrency` requests handled at once; a request that gets no slot
  within `slot_wait` seconds is answered 503.

Both refusals are the API's JSON refusals (`{"error": reason}`) with a `Retry-After` in whole
seconds, sent without reading the request nor calling the app, so a flood costs little more than
its answers. The client is the connection's remote address (an IPv6 one by its /64, which one host
usually holds whole); behind a reverse proxy every client is the proxy. The table of clients is
bounded: a client whose bucket has filled up again is forgotten (it is as if never seen), and past
`max_clients` the least recently seen is forgotten. See docs/api.md."""

import ipaddress
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class Limits:
    """The API's flood limits; the defaults suit a node serving a tiers-lieu's wallets and tools."""

    #: Requests handled at once, all clients together.
    concurrency: int = 32
    #: Seconds a request may wait for a slot before it is answered 503.
    slot_wait: float = 1.0
    #: Requests a second each client may make, sustained; None: no per-client limit.
    rate: float | None = 50.0
    #: Requests each client may make at once, on top of its rate (a browser loading `/docs` makes 5).
    burst: int = 200
    #: Clients whose buckets are remembered; past that, the least recently seen is forgotten.
    max_clients: int = 10_000

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.slot_wait < 0 or self.burst < 1 or self.max_clients < 1:
            raise ValueError(f"bad API limits: {self}")
        if self.rate is not None and not self.rate > 0:
            raise ValueError(f"bad API limits: the rate must be positive or None, not {self.rate}")


class ClientBuckets:
    """A token bucket per client: `burst` tokens at first, refilled at `rate` a second, one taken by
    each request. Only clients that are not full are worth remembering, and at most `max_clients`."""

    def __init__(self, rate: float, burst: int, max_clients: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        #: client → (tokens, when counted), least recently seen first.
        self._table: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._table)

    def _tokens(self, tokens: float, at: float, now: float) -> float:
        return min(float(self.burst), tokens + max(0.0, now - at) * self.rate)

    def take(self, client: str) -> int:
        """Take a token for a request of `client`: 0 if it may go on, else the whole seconds (at
        least 1) after which it will have one."""
        now = self.clock()
        self._forget_idle(now)
        tokens, at = self._table.pop(client, (float(self.burst), now))
        tokens = self._tokens(tokens, at, now)
        wait = 0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = max(1, math.ceil((1 - tokens) / self.rate))
        self._table[client] = (tokens, now)
        while len(self._table) > self.max_clients:
            self._table.popitem(last=False)
        return wait

    def _forget_idle(self, now: float) -> None:
        """Forget the least recently seen clients whose buckets are full again; stop at the first
        that is not (those seen later are most often not full either; the cap bounds the rest)."""
        while self._table:
            client, (tokens, at) = next(iter(self._table.items()))
            if self._tokens(tokens, at, now) < self.burst:
                return
            del self._table[client]


def client_key(scope: Scope) -> str:
    """The client a request is counted against: its IPv4 address, or its IPv6 address's /64."""
    client = scope.get("client")
    if not client:
        return "unknown"
    host = str(client[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


async def refuse(send: Send, status: int, reason: str, retry_after: int) -> None:
    """Answer `{"error": reason}` with `status` and `Retry-After`, as the API's other refusals."""
    body = json.dumps({"error": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FloodGuard:
    """The flood limits around `app` (see the module's doc); `clock` (seconds, monotonic) times the
    buckets, and can be a test's fake one. Waits for a slot use the event loop's own clock."""

    def __init__(
        self, app: ASGIApp, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.limits = Limits() if limits is None else limits
        self.buckets = (
            None
            if self.limits.rate is None
            else ClientBuckets(self.limits.rate, self.limits.burst, self.limits.max_clients, clock)
        )
        self.slots = anyio.Semaphore(self.limits.concurrency)

    @property
    def busy(self) -> int:
        """Requests being handled now."""
        return self.limits.concurrency - self.slots.value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.buckets is not None:
            wait = self.buckets.take(client_key(scope))
            if wait:
                reason = f"too many requests from your address: retry in {wait} s"
                await refuse(send, 429, reason, wait)
                return
        acquired = False
        try:
            self.slots.acquire_nowait()
            acquired = True
        except anyio.WouldBlock:
            with anyio.move_on_after(self.limits.slot_wait):
                await self.slots.acquire()
                acquired = True
        if not acquired:
            await refuse(send, 503, "the node is busy: retry in a second", 1)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()
