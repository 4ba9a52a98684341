"""The wallet's node client: failover when a node fails, a refusal shown as is, a warning when the
configured nodes are not on the same head."""

from typing import Any

import httpx
import pytest

from wallet.client import API_HEADER, API_VERSION, NodeClient, NodeUnavailable, Refused


def june(status: int, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    """An answer as a June node gives it: with its API header."""
    return httpx.Response(status, headers={API_HEADER: API_VERSION, **(headers or {})}, **kwargs)


def transport(routes: dict[str, httpx.Response | Exception]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        answer = routes[f"{request.url.host}{request.url.path}"]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle)


def test_fails_over_to_the_next_node(capsys: pytest.CaptureFixture[str]) -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "down/currency": httpx.ConnectError("refused"),
        "broken/currency": june(500, json={"error": "disk full"}),
        "up/currency": june(200, json={"money": {"members": 5}}),
    }
    client = NodeClient(["http://down", "http://broken", "http://up"], transport=transport(routes))
    assert client.get("/currency") == {"money": {"members": 5}}
    notes = capsys.readouterr().err
    assert "http://down does not answer" in notes and "http://broken failed (disk full)" in notes


def test_a_refusal_is_not_retried_elsewhere() -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "a/documents": june(422, json={"error": "the source is spent", "rule": "BR_G87"}),
        "b/documents": june(200, json={"result": "accepted"}),
    }
    client = NodeClient(["http://a", "http://b"], transport=transport(routes))
    with pytest.raises(Refused) as refused:
        client.submit(b"\x80")
    assert refused.value.rule == "BR_G87" and "the source is spent" in str(refused.value)


def test_no_node_answers() -> None:
    routes: dict[str, httpx.Response | Exception] = {"a/node": httpx.ConnectTimeout("slow")}
    with pytest.raises(NodeUnavailable, match="no node could answer"):
        NodeClient(["http://a"], transport=transport(routes)).get("/node")


def test_warns_when_nodes_disagree_on_the_head(capsys: pytest.CaptureFixture[str]) -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "a/node": june(200, json={"head": {"number": 10, "hash": "AA"}}),
        "b/node": june(200, json={"head": {"number": 9, "hash": "BB"}}),
    }
    heads = NodeClient(["http://a", "http://b"], transport=transport(routes)).check_agreement()
    assert [h["number"] for _, h in heads] == [10, 9]
    assert "not on the same head" in capsys.readouterr().err


def test_a_busy_node_is_asked_again_after_the_wait_it_asks_for(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(
        [
            june(429, json={"error": "too many requests"}, headers={"retry-after": "1"}),
            june(200, json={"money": {"members": 5}}),
        ]
    )
    waits: list[float] = []
    monkeypatch.setattr("wallet.client.time.sleep", waits.append)
    client = NodeClient(["http://busy"], transport=httpx.MockTransport(lambda _request: next(answers)))
    assert client.get("/currency") == {"money": {"members": 5}}
    assert waits == [1.0]


def test_a_node_that_asks_for_a_long_wait_is_left_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "busy/currency": june(429, json={"error": "slow down"}, headers={"retry-after": "600"}),
        "up/currency": june(200, json={"money": {"members": 5}}),
    }
    monkeypatch.setattr("wallet.client.time.sleep", lambda _s: pytest.fail("waited 600 s"))
    client = NodeClient(["http://busy", "http://up"], transport=transport(routes))
    assert client.get("/currency") == {"money": {"members": 5}}


def test_an_answer_that_is_not_june_s_moves_on_to_the_next_node(capsys: pytest.CaptureFixture[str]) -> None:
    """A website's HTML 404 (a wrong port, a proxy), JSON without June's header, another API
    version or a JSON string: none is taken as an answer, none is printed whole, and a healthy node
    after them answers."""
    page = "<html>" + "<p>Not Found</p>" * 500 + "</html>"
    routes: dict[str, httpx.Response | Exception] = {
        "web/identities/alice": httpx.Response(404, text=page, headers={"content-type": "text/html"}),
        "proxy/identities/alice": httpx.Response(200, json={"uid": "mallory"}),
        "future/identities/alice": june(200, json={"uid": "alice"}, headers={API_HEADER: "7"}),
        "odd/identities/alice": june(200, json="alice"),
        "up/identities/alice": june(200, json={"uid": "alice"}),
    }
    urls = ["http://web", "http://proxy", "http://future", "http://odd", "http://up"]
    assert NodeClient(urls, transport=transport(routes)).get("/identities/alice") == {"uid": "alice"}
    notes = capsys.readouterr().err
    assert "http://web is not a June node (HTTP 404, text/html)" in notes
    assert "http://proxy is not a June node" in notes and "version '7'" in notes
    assert "<p>" not in notes


def test_when_no_node_could_answer_each_is_named_with_why() -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "web/node": httpx.Response(404, text="<html>nope</html>", headers={"content-type": "text/html"}),
        "down/node": httpx.ConnectError("connection refused"),
        "broken/node": june(500, json={"error": "disk full"}),
    }
    client = NodeClient(
        ["http://web", "http://down", "http://broken"], transport=transport(routes), verbose=False
    )
    with pytest.raises(NodeUnavailable) as failure:
        client.get("/node")
    message = str(failure.value)
    assert "http://web: is not a June node (HTTP 404, text/html)" in message
    assert "http://down: does not answer (connection refused)" in message
    assert "http://broken: failed (disk full)" in message and "nope" not in message
