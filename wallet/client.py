"""Talking to nodes: the client API over HTTP, with failover between the configured nodes.

Nodes are asked in order; one that cannot serve the call is skipped with a note, and the next is
asked. A node cannot serve it when it does not answer (refused, timed out), fails (a 5xx), or
answers something that is not June's API: every answer of a June node carries the header
`June-Api: 1`, so an HTML page from a website, a proxy or a wrong port is never taken for an
answer, nor shown whole. A busy node (429 or 503 with a short `Retry-After`) is asked again after
the wait it asked for. A June node's 4xx is its verdict on the request itself: it is not retried
elsewhere but shown in plain words. When no node could serve the call, the error names each node
and why. With several nodes, `check_agreement` tells when they are not on the same head (a node
behind, or a fork).
"""

import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from wallet.errors import WalletError
from wallet.i18n import _

DEFAULT_NODE = "http://127.0.0.1:8088"
TIMEOUT = 10.0
#: A busy node (429 or 503 with `Retry-After`) is asked again this many times, if it asks to wait
#: no longer than `MAX_BUSY_WAIT` seconds; otherwise the next node is asked.
BUSY_RETRIES = 2
MAX_BUSY_WAIT = 5.0
#: The header by which a June node's answers are known, and the API version this wallet speaks.
API_HEADER = "june-api"
API_VERSION = "1"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


class NodeUnavailable(WalletError):
    """No configured node answered."""


class Refused(WalletError):
    """A node refused the request; `rule` names the broken rule when a document was refused."""

    def __init__(self, status: int, reason: str, rule: str | None = None) -> None:
        super().__init__(_("{reason} (rule {rule})").format(reason=reason, rule=rule) if rule else reason)
        self.status = status
        self.reason = reason
        self.rule = rule


def _not_june(response: httpx.Response, *, json_answer: bool) -> str | None:
    """Why `response` is not an answer of June's API (None when it is): the header missing, another
    API version, or, where JSON is expected, another content type or a body that is not a JSON
    object or array."""
    version = response.headers.get(API_HEADER)
    kind = response.headers.get("content-type", "?").split(";")[0].strip() or "?"
    if version is None:
        return _("is not a June node (HTTP {status}, {kind})").format(status=response.status_code, kind=kind)
    if version != API_VERSION:
        return _("speaks June API version {theirs}, this wallet version {ours}").format(
            theirs=repr(version[:20]), ours=API_VERSION
        )
    if json_answer and response.status_code < 500:
        if kind != "application/json":
            return _("answered {kind}, not JSON (HTTP {status})").format(
                kind=kind, status=response.status_code
            )
        try:
            body = response.json()
        except ValueError:
            return _("answered JSON that does not parse (HTTP {status})").format(status=response.status_code)
        if not isinstance(body, dict | list):
            return _("answered a JSON {type}, not an object (HTTP {status})").format(
                type=type(body).__name__, status=response.status_code
            )
    return None


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
        return self._send(method, path, json_answer=True, **kwargs).json()

    def _send(self, method: str, path: str, *, json_answer: bool = False, **kwargs: Any) -> httpx.Response:
        failures = []
        for url in self.urls:
            for attempt in range(BUSY_RETRIES + 1):
                try:
                    with self._http() as http:
                        response = http.request(method, url.rstrip("/") + path, **kwargs)
                except httpx.HTTPError as exc:
                    why = str(exc) or type(exc).__name__
                    failures.append(f"{url}: " + _("does not answer ({why})").format(why=why))
                    self._note(
                        _("node {url} does not answer ({why}); trying the next one").format(url=url, why=why)
                    )
                    break
                foreign = _not_june(response, json_answer=json_answer)
                if foreign is not None:
                    failures.append(f"{url}: {foreign}")
                    self._note(_("{url} {problem}; trying the next one").format(url=url, problem=foreign))
                    break
                if response.status_code in (429, 503):  # busy: wait as told (briefly), or move on
                    wait = _retry_after(response)
                    if wait is not None and wait <= MAX_BUSY_WAIT and attempt < BUSY_RETRIES:
                        self._note(
                            _("node {url} is busy; trying again in {seconds} s").format(
                                url=url, seconds=f"{wait:.0f}"
                            )
                        )
                        time.sleep(wait)
                        continue
                if response.status_code >= 500 or response.status_code == 429:
                    reason = self._reason(response)
                    failures.append(f"{url}: " + _("failed ({reason})").format(reason=reason))
                    self._note(
                        _("node {url} failed ({reason}); trying the next one").format(url=url, reason=reason)
                    )
                    break
                if response.status_code >= 400:
                    body = self._body(response)
                    reason = str(body.get("error", response.text[:200]))
                    raise Refused(response.status_code, reason, body.get("rule"))
                return response
        raise NodeUnavailable(_("no node could answer:") + "\n" + "\n".join(f"  {line}" for line in failures))

    def check_agreement(self) -> list[tuple[str, Any]]:
        """Each node's head (or None if it does not answer); warns when they differ."""
        heads: list[tuple[str, Any]] = []
        for url in self.urls:
            try:
                with self._http() as http:
                    response = http.get(url.rstrip("/") + "/node")
                summary = response.json() if _not_june(response, json_answer=True) is None else {}
                heads.append((url, summary.get("head")))
            except (httpx.HTTPError, ValueError):
                heads.append((url, None))
        answered = {(h["number"], h["hash"]) for _, h in heads if h}
        if len(answered) > 1:
            described = ", ".join(
                _("{url} at #{number}").format(url=u, number=h["number"]) for u, h in heads if h
            )
            self._note(_("warning: the nodes are not on the same head: {heads}").format(heads=described))
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
