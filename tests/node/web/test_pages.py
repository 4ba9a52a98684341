"""Every page of the web interface renders, in English and French, and shows the JSON API's own
figures for the same chain."""

import re
from typing import Any

import httpx
import pytest
import segno
from markupsafe import escape

from node.api.context import ApiContext
from node.web import pages
from protocol.keys import pubkey_display
from protocol.payment_uri import PaymentRequest, format_payment_uri, parse_payment_uri
from tests.node.web.html import cents_of, html_lang, text_of, title
from tests.protocol.chain_builder import Chain

FRENCH = {"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"}


async def page(client: httpx.AsyncClient, path: str, status: int = 200, **kwargs: Any) -> str:
    answer = await client.get(path, **kwargs)
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


async def test_every_page_has_a_title_and_a_language(client: httpx.AsyncClient, chain: Chain) -> None:
    alice = pubkey_display(chain.key("alice"))
    paths = ["/", "/chain", "/chain/1", "/members", "/members?q=a", "/members/alice", f"/accounts/{alice}"]
    paths += ["/operator/pending", "/operator/peers", f"/pay/{alice}"]
    for path in paths:
        for headers, language in (({}, "en"), (FRENCH, "fr")):
            html = await page(client, path, headers=headers)
            assert html_lang(html) == language, path
            assert title(html).endswith("· June"), path
            assert "<script" not in html.replace("&lt;script", ""), path  # no JavaScript at all
            assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), path
            assert "https://" not in html, path  # nothing loaded from elsewhere


async def test_the_currency_page_shows_the_api_figures(client: httpx.AsyncClient) -> None:
    money = (await client.get("/currency")).json()["money"]
    for headers, language in (({}, "en"), (FRENCH, "fr")):
        html = await page(client, "/", headers=headers)
        assert int(text_of(html, "members-count")) == money["members"]
        assert cents_of(text_of(html, "dividend"), language) == money["dividend_cents"]
        assert cents_of(text_of(html, "monetary-mass"), language) == money["monetary_mass"]
        assert cents_of(text_of(html, "mass-per-member"), language) == money["mass_per_member"]
        assert cents_of(text_of(html, "next-dividend"), language) == money["next_dividend_cents"]
        ratio = text_of(html, "mass-per-member-ud").replace(",", ".")
        assert float(ratio) == pytest.approx(money["mass_per_member_in_ud"], abs=0.005)
    for chart in ("chart-n", "chart-ud", "chart-mn-ud", "chart-mn", "chart-blocks"):
        assert f'<svg id="{chart}"' in html
    english = await page(client, "/")
    assert "Universal Dividend" in english and "Dividende universel" in html


async def test_dates_and_numbers_follow_the_language(client: httpx.AsyncClient) -> None:
    money = (await client.get("/currency")).json()["money"]
    english, french = await page(client, "/"), await page(client, "/", headers=FRENCH)
    assert "." in text_of(english, "dividend") and "," in text_of(french, "dividend")
    months_en = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    assert text_of(english, "next-dividend-date").startswith(months_en)
    assert re.match(r"\d{1,2} [a-zéû.]+ \d{4}", text_of(french, "next-dividend-date"))
    assert money["next_dividend_time"] > money["median_time"]


def listed_blocks(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/chain/(\d+)">#\d+</a></td>', html)]


async def test_the_chain_pages(
    client: httpx.AsyncClient, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = chain.blocks[-1].number
    html = await page(client, "/chain")
    assert text_of(html, "head-number") == f"#{head}"
    assert listed_blocks(html) == list(range(head, -1, -1))
    monkeypatch.setattr(pages, "BLOCKS_PER_PAGE", 2)
    first = await page(client, "/chain")
    assert listed_blocks(first) == [head, head - 1]
    assert 'id="newer"' not in first and f'href="/chain?start={head - 2}"' in first
    second = await page(client, f"/chain?start={head - 2}")
    assert listed_blocks(second) == [head - 2, head - 3]
    assert f'href="/chain?start={head}"' in second
    last = await page(client, "/chain?start=1")
    assert 'id="older"' not in last
    beyond = await page(client, "/chain?start=999999")  # clamped to the head
    assert listed_blocks(beyond)[0] == head


async def test_a_block_page_shows_the_api_block(client: httpx.AsyncClient, chain: Chain) -> None:
    paying = next(b for b in chain.blocks if b.transactions)
    block = (await client.get(f"/blocks/{paying.number}")).json()
    html = await page(client, f"/chain/{paying.number}")
    assert text_of(html, "block-hash") == block["hash"]
    assert text_of(html, "block-digest") == block["state_digest"]
    assert text_of(html, "block-issuer") == "alice"  # the issuer's uid
    assert text_of(html, "block-members") == str(block["members_count"])
    raw = (await client.get(f"/blocks/{paying.number}/raw")).content
    assert int(text_of(html, "block-size").replace(",", "")) == len(raw)
    assert "pain" in html and 'id="block-transactions"' in html
    joining = next(b for b in chain.blocks if b.identities)
    html = await page(client, f"/chain/{joining.number}")
    assert 'id="block-certifications"' in html
    dividend = next(b for b in chain.blocks if b.dividend)
    html = await page(client, f"/chain/{dividend.number}")
    assert cents_of(text_of(html, "block-dividend")) == dividend.dividend * 10**dividend.unit_base


async def test_member_search_is_the_api_search(client: httpx.AsyncClient) -> None:
    for text in ("a", "ALI", "o"):
        found = (await client.get("/identities", params={"search": text, "limit": 100})).json()
        html = await page(client, "/members", params={"q": text})
        assert re.findall(r'<td class="key">([^<]+)</td>', html) == [i["pubkey"] for i in found["identities"]]
    html = await page(client, "/members", params={"q": "zzz"})
    assert 'id="no-results"' in html


async def test_a_member_page_shows_the_api_requirements(client: httpx.AsyncClient, chain: Chain) -> None:
    needs = (await client.get("/wot/alice/requirements")).json()
    identity = (await client.get("/identities/alice")).json()
    for headers in ({}, FRENCH):
        html = await page(client, "/members/alice", headers=headers)
        assert text_of(html, "member-uid") == "alice"
        assert text_of(html, "member-key") == identity["pubkey"]
        assert int(text_of(html, "certifications-received")) == len(needs["certifications"]["received"])
        assert int(text_of(html, "certifications-issued")) == len(needs["certifications"]["issued"])
        assert str(needs["distance"]["reached"]) in text_of(html, "distance")
    english = await page(client, "/members/alice")
    assert text_of(english, "member-status") == "member"
    # macros speak the page's language too (imported with the page's context)
    assert text_of(await page(client, "/members/alice", headers=FRENCH), "member-status") == "membre"
    search = await page(client, "/members?q=alice", headers=FRENCH)
    assert "<td>membre</td>" in search
    # five members: dSen is 2, and alice issued and received at least two certifications
    assert text_of(english, "sentry") == "yes"
    graph = english[english.index('<svg id="neighbourhood"') :]
    for row in needs["certifications"]["received"] + needs["certifications"]["issued"]:
        assert f'href="/members/@{row["uid"]}"' in graph
    # a member page by key, by @uid, and of the newcomer whose uid is another's key
    assert text_of(await page(client, f"/members/{identity['pubkey']}"), "member-uid") == "alice"
    assert text_of(await page(client, "/members/@alice"), "member-uid") == "alice"


async def test_an_account_page_shows_the_api_balance_and_history(
    client: httpx.AsyncClient, chain: Chain
) -> None:
    bob = pubkey_display(chain.key("bob"))
    sources = (await client.get(f"/sources/{bob}")).json()
    history = (await client.get(f"/history/{bob}", params={"limit": 50})).json()
    money = (await client.get("/currency")).json()["money"]
    for headers, language in (({}, "en"), (FRENCH, "fr")):
        html = await page(client, f"/accounts/{bob}", headers=headers)
        assert cents_of(text_of(html, "balance"), language) == sources["balance"]
        balance_ud = float(text_of(html, "balance-ud").replace(",", "."))
        assert balance_ud == pytest.approx(sources["balance"] / money["dividend_cents"], abs=0.005)
        rows = re.findall(r'<tr class="(\w+)"><td><a href="/chain/(\d+)">', html)
        assert rows == [(e["kind"], str(e["block"])) for e in history["history"]]
        assert text_of(html, "account-uid") == "bob"
    assert "alice" in html and "carol" in html  # counterparts by name


async def test_history_pages_grow_by_limit(client: httpx.AsyncClient, chain: Chain) -> None:
    bob = pubkey_display(chain.key("bob"))
    html = await page(client, f"/accounts/{bob}?limit=2")
    assert len(re.findall(r'<tr class="\w+">', html)) == 2
    assert "limit=4" in html  # the link to more entries


async def test_pending_documents_and_peers(client: httpx.AsyncClient, api: ApiContext, chain: Chain) -> None:
    html = await page(client, "/operator/pending")
    assert text_of(html, "pending-count") == "0"
    payment = chain.pay("carol", {"dave": 123})
    await client.post("/documents", content=payment.to_bytes(), headers={"content-type": "application/cbor"})
    listed = (await client.get("/pending")).json()
    html = await page(client, "/operator/pending")
    assert text_of(html, "pending-count") == str(len(listed)) == "1"
    assert listed[0]["hash"] in html
    assert text_of(await page(client, "/operator/pending?kind=identity"), "pending-count") == "0"
    await page(client, "/operator/pending?kind=nonsense", 400)
    html = await page(client, "/operator/peers")
    assert text_of(html, "peers-count") == "0"


async def test_the_payment_page_encodes_the_uri(client: httpx.AsyncClient, chain: Chain) -> None:
    alice = chain.key("alice")
    currency = (await client.get("/currency")).json()["currency"]
    html = await page(client, f"/pay/{pubkey_display(alice)}", params={"amount": "12.5", "comment": "merci"})
    uri = text_of(html, "payment-uri")
    expected = PaymentRequest(alice, amount_cents=1250, comment="merci", currency=currency)
    assert uri == format_payment_uri(expected) and parse_payment_uri(uri) == expected
    assert f"june pay '{escape(uri)}'" in html
    # the QR code is segno's for exactly that URI
    qr = segno.make_qr(uri, error="m").svg_inline(border=4, dark="#000", light="#fff", omitsize=True)
    assert qr in html and "viewBox" in qr
    assert cents_of(text_of(html, "pay-amount").split(" (")[0]) == 1250
    assert 'name="amount" inputmode="decimal" maxlength="20" value="12.50"' in html  # the form's own format
    ud = await page(client, f"/pay/{pubkey_display(alice)}", params={"ud": "1.5"})
    assert parse_payment_uri(text_of(ud, "payment-uri")).amount_ud is not None
    assert text_of(await page(client, f"/pay/{pubkey_display(alice)}"), "payment-uri").endswith(
        f"?currency={currency}"
    )


@pytest.mark.parametrize(
    "query",
    [
        {"amount": "abc"},
        {"amount": "-1"},
        {"amount": "1.234"},
        {"amount": "1", "ud": "1"},
        {"ud": "x" * 31},
        {"comment": "x" * 256},
        {"comment": "a\nb"},
    ],
)
async def test_a_bad_payment_request_is_a_400_page(
    client: httpx.AsyncClient, chain: Chain, query: dict[str, str]
) -> None:
    html = await page(client, f"/pay/{pubkey_display(chain.key('alice'))}", 400, params=query)
    assert text_of(html, "error-reason")
