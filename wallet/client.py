"""Talking to nodes: the client API over HTTP, with failover between the configured nodes.

Nodes are asked in order; one that does not answer (refused, timed out, a 5xx) is skipped with a
note, and the next is asked. A busy node (429 or 503 with a short `Retry-After`) is asked again
after the wait it asked for. A 4xx is the node's verdict on the request itself: it is not retried
elsewhere but shown in plain words. With several nodes, `check_agreement` tells when they are not
on the same head (a node behind, or a fork).
"""

import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from wallet.errors import WalletError

DEFAULT_NODE = "http://127.0.0.1:8088"
TIMEOUT = 10.0
#: A busy node (429 or 503 with `Retry-After`) is asked again this many times, if it asks to wait
#: no longer than `MAX_BUSY_WAIT` seconds; otherwise the next node is asked.
BUSY_RETRIES = 2
MAX_BUSY_WAIT = 5.0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


class NodeUnavailable(WalletError):
    """No configured node answered."""


class Refused(WalletError):
    """A node refused the request; `rule` names the broken rule when a document was refused."""

    def __init__(self, status: int, reason: str, rule: str | None = None) -> None:
        super().__init__(f"{reason} (rule {rule})" if rule else reason)
        self.status = status
        self.reason = reason
        self.rule = rule


@dataclass
class NodeClient:
    urls: list[str]
    timeout: float = TIMEOUT
    verbose: bool = True
    #: Tests give a mock transport; the default is the network.
    transport: httpx.BaseTransport | None = None

    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, transport=self.transport)

    def get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=params or None)

    def get_bytes(self, path: str) -> bytes:
        response = self._send("GET", path)
        return response.content

    def submit(self, document: bytes) -> Any:
        """Send a signed document; returns the node's answer, raises `Refused` with the rule."""
        return self._request(
            "POST", "/documents", content=document, headers={"content-type": "application/cbor"}
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise NodeUnavailable(f"{response.url} answered something that is not JSON") from exc

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        failures = []
        for url in self.urls:
            for attempt in range(BUSY_RETRIES + 1):
                try:
                    with self._http() as http:
                        response = http.request(method, url.rstrip("/") + path, **kwargs)
                except httpx.HTTPError as exc:
                    why = exc or type(exc).__name__
                    failures.append(f"{url}: {why}")
                    self._note(f"node {url} does not answer ({why}); trying the next one")
                    break
                if response.status_code in (429, 503):  # busy: wait as told (briefly), or move on
                    wait = _retry_after(response)
                    if wait is not None and wait <= MAX_BUSY_WAIT and attempt < BUSY_RETRIES:
                        self._note(f"node {url} is busy; trying again in {wait:.0f} s")
                        time.sleep(wait)
                        continue
                if response.status_code >= 500 or response.status_code == 429:
                    failures.append(f"{url}: {self._reason(response)}")
                    self._note(f"node {url} failed ({self._reason(response)}); trying the next one")
                    break
                if response.status_code >= 400:
                    body = self._body(response)
                    reason = str(body.get("error", response.text))
                    raise Refused(response.status_code, reason, body.get("rule"))
                return response
        raise NodeUnavailable("no node answered: " + "; ".join(failures))

    def check_agreement(self) -> list[tuple[str, Any]]:
        """Each node's head (or None if it does not answer); warns when they differ."""
        heads: list[tuple[str, Any]] = []
        for url in self.urls:
            try:
                with self._http() as http:
                    summary = http.get(url.rstrip("/") + "/node").json()
                heads.append((url, summary.get("head")))
            except (httpx.HTTPError, ValueError):
                heads.append((url, None))
        answered = {(h["number"], h["hash"]) for _, h in heads if h}
        if len(answered) > 1:
            described = ", ".join(f"{u} at #{h['number']}" for u, h in heads if h)
            self._note(f"warning: the nodes are not on the same head: {described}")
        return heads

    def _note(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr)

    @staticmethod
    def _body(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _reason(self, response: httpx.Response) -> str:
        return str(self._body(response).get("error", f"HTTP {response.status_code}"))
