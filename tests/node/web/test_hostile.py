"""Hostile input: every parameter bounded and checked, unknown things a 404 page, never a 500,
and what a user wrote (a uid, a comment, a search) always shown as text."""

from pathlib import Path

import httpx
import pytest

from protocol.keys import Keypair, pubkey_display
from tests.node.api.conftest import EVE_UID, api_over, http_client  # eve's uid is frank's key
from tests.node.web.conftest import HOSTILE
from tests.node.web.html import text_of
from tests.protocol.chain_builder import Chain

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


async def test_a_comment_with_html_is_shown_as_text(client: httpx.AsyncClient, chain: Chain) -> None:
    carol = pubkey_display(chain.key("carol"))
    account = (await client.get(f"/accounts/{carol}")).text
    assert ESCAPED in account and HOSTILE not in account
    paying = next(b for b in chain.blocks if any(tx.comment == HOSTILE for tx in b.transactions))
    block = (await client.get(f"/chain/{paying.number}")).text
    assert ESCAPED in block and HOSTILE not in block
    pay = (await client.get(f"/pay/{carol}", params={"comment": HOSTILE})).text
    assert text_of(pay, "pay-comment") == HOSTILE and HOSTILE not in pay


async def test_searches_and_names_are_shown_as_text(client: httpx.AsyncClient) -> None:
    search = (await client.get("/members", params={"q": '"><script>x</script>'})).text
    assert "<script>x" not in search and "&#34;&gt;&lt;script&gt;" in search
    missing = await client.get("/members/<script>x</script>")
    assert missing.status_code in (400, 404) and "<script>x" not in missing.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/chain/999999", 404),
        ("/chain/abc", 400),
        ("/chain/-1", 400),
        ("/chain/" + "9" * 30, 400),
        ("/chain?start=-1", 400),
        ("/chain?start=abc", 400),
        ("/chain?start=" + "9" * 30, 400),
        ("/members/nobody", 404),
        ("/members/" + "a" * 201, 400),
        ("/members?q=" + "a" * 101, 400),
        ("/members/KEY:XYZ", 400),
        ("/accounts/notakey", 400),
        ("/accounts/" + "1" * 300, 400),
        ("/accounts/ALICE?limit=0", 400),
        ("/accounts/ALICE?limit=1001", 400),
        ("/accounts/ALICE?scan=200001", 400),
        ("/accounts/ALICE?scan=1e3", 400),
        ("/pay/notakey", 400),
        ("/pay/ALICE?amount=" + "1" * 40, 400),
        ("/pay/ALICE?comment=" + "x" * 1001, 400),
        ("/operator/pending?page=0", 400),
        ("/operator/peers?page=x", 400),
        ("/lang/de", 404),
    ],
)
async def test_bad_parameters_are_html_refusals(
    client: httpx.AsyncClient, chain: Chain, path: str, status: int
) -> None:
    answer = await client.get(path.replace("ALICE", pubkey_display(chain.key("alice"))))
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in answer.text and text_of(answer.text, "error-reason")


async def test_an_unknown_account_is_a_404(client: httpx.AsyncClient) -> None:
    stranger = pubkey_display(Keypair(b"stranger".ljust(32, b".")).public_key)
    answer = await client.get(f"/accounts/{stranger}")
    assert answer.status_code == 404
    # anyone may still be paid: the payment page needs no account
    assert (await client.get(f"/pay/{stranger}")).status_code == 200


async def test_an_ambiguous_name_is_a_409_page(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"/members/{EVE_UID}")
    assert answer.status_code == 409 and text_of(answer.text, "error-reason")
    assert text_of((await client.get(f"/members/@{EVE_UID}")).text, "member-uid") == EVE_UID


async def test_hostile_headers_do_not_break_a_page(client: httpx.AsyncClient) -> None:
    for header in ("x" * 5000, ";;;,,,q=abc", "fr;q=nan", "*", "fr;q=-1, en;q=0"):
        answer = await client.get("/", headers={"accept-language": header})
        assert answer.status_code == 200
    answer = await client.get("/", headers={"cookie": "lang=<script>"})
    assert answer.status_code == 200 and '<html lang="en">' in answer.text


async def test_a_node_without_a_chain_answers_every_page(tmp_path: Path, chain: Chain) -> None:
    alice = pubkey_display(chain.key("alice"))
    paths = ["/", "/chain", "/chain/0", "/members", "/members?q=a", "/members/alice", f"/accounts/{alice}"]
    paths += ["/operator/pending", "/operator/peers", f"/pay/{alice}"]
    with api_over(tmp_path / "empty", None) as api:
        async with http_client(api) as http:
            for path in paths:
                answer = await http.get(path)
                assert answer.status_code in (200, 404, 503), (path, answer.status_code)
                assert answer.headers["content-type"].startswith("text/html")
