"""The wallet's node client: failover when a node fails, a refusal shown as is, a warning when the
configured nodes are not on the same head."""

import httpx
import pytest

from wallet.client import NodeClient, NodeUnavailable, Refused


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
        "broken/currency": httpx.Response(500, json={"error": "disk full"}),
        "up/currency": httpx.Response(200, json={"money": {"members": 5}}),
    }
    client = NodeClient(["http://down", "http://broken", "http://up"], transport=transport(routes))
    assert client.get("/currency") == {"money": {"members": 5}}
    notes = capsys.readouterr().err
    assert "http://down does not answer" in notes and "http://broken failed (disk full)" in notes


def test_a_refusal_is_not_retried_elsewhere() -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "a/documents": httpx.Response(422, json={"error": "the source is spent", "rule": "BR_G87"}),
        "b/documents": httpx.Response(200, json={"result": "accepted"}),
    }
    client = NodeClient(["http://a", "http://b"], transport=transport(routes))
    with pytest.raises(Refused) as refused:
        client.submit(b"\x80")
    assert refused.value.rule == "BR_G87" and "the source is spent" in str(refused.value)


def test_no_node_answers() -> None:
    routes: dict[str, httpx.Response | Exception] = {"a/node": httpx.ConnectTimeout("slow")}
    with pytest.raises(NodeUnavailable, match="no node answered"):
        NodeClient(["http://a"], transport=transport(routes)).get("/node")


def test_warns_when_nodes_disagree_on_the_head(capsys: pytest.CaptureFixture[str]) -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "a/node": httpx.Response(200, json={"head": {"number": 10, "hash": "AA"}}),
        "b/node": httpx.Response(200, json={"head": {"number": 9, "hash": "BB"}}),
    }
    heads = NodeClient(["http://a", "http://b"], transport=transport(routes)).check_agreement()
    assert [h["number"] for _, h in heads] == [10, 9]
    assert "not on the same head" in capsys.readouterr().err


def test_a_busy_node_is_asked_again_after_the_wait_it_asks_for(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(
        [
            httpx.Response(429, json={"error": "too many requests"}, headers={"retry-after": "1"}),
            httpx.Response(200, json={"money": {"members": 5}}),
        ]
    )
    waits: list[float] = []
    monkeypatch.setattr("wallet.client.time.sleep", waits.append)
    client = NodeClient(["http://busy"], transport=httpx.MockTransport(lambda _request: next(answers)))
    assert client.get("/currency") == {"money": {"members": 5}}
    assert waits == [1.0]


def test_a_node_that_asks_for_a_long_wait_is_left_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    routes: dict[str, httpx.Response | Exception] = {
        "busy/currency": httpx.Response(429, json={"error": "slow down"}, headers={"retry-after": "600"}),
        "up/currency": httpx.Response(200, json={"money": {"members": 5}}),
    }
    monkeypatch.setattr("wallet.client.time.sleep", lambda _s: pytest.fail("waited 600 s"))
    client = NodeClient(["http://busy", "http://up"], transport=transport(routes))
    assert client.get("/currency") == {"money": {"members": 5}}
