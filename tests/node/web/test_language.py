"""The language: the `lang` cookie, else Accept-Language, else English; the switch's redirect stays
on this node."""

import httpx
import pytest

from node.web.i18n import choose_language, format_date, format_money, format_number
from tests.node.web.html import html_lang


@pytest.mark.parametrize(
    ("cookie", "accept", "language"),
    [
        (None, None, "en"),
        (None, "fr", "fr"),
        (None, "fr-CA,en;q=0.8", "fr"),
        (None, "de-DE,fr;q=0.7,en;q=0.9", "en"),
        (None, "de, fr;q=0.5", "fr"),
        (None, "de", "en"),
        (None, "fr;q=0", "en"),
        ("en", "fr", "en"),
        ("fr", "en", "fr"),
        ("xx", "fr", "fr"),
    ],
)
def test_choose_language(cookie: str | None, accept: str | None, language: str) -> None:
    assert choose_language(cookie, accept) == language


def test_numbers_and_dates_per_language() -> None:
    assert format_money(123456789, "en") == "1,234,567.89"
    assert format_money(123456789, "fr") == "1\u202f234\u202f567,89"
    assert format_money(-700, "en") == "-7.00" and format_money(5, "fr") == "0,05"
    assert format_number(1234.5, "en", 1) == "1,234.5" and format_number(999, "fr") == "999"
    assert format_date(1700000000, "en") == "Nov 14, 2023"
    assert format_date(1700000000, "fr", with_time=True) == "14 nov. 2023 22:13 UTC"
    assert format_date(None, "en") == "—"


async def test_the_switch_sets_the_cookie_and_goes_back(client: httpx.AsyncClient) -> None:
    answer = await client.get("/lang/fr", params={"next": "/chain?start=2"})
    assert answer.status_code == 303 and answer.headers["location"] == "/chain?start=2"
    assert "lang=fr" in answer.headers["set-cookie"]
    page = await client.get("/chain", headers={"cookie": "lang=fr", "accept-language": "en"})
    assert html_lang(page.text) == "fr" and "Blocs" in page.text
    # each page links to the other language, back to itself
    assert 'href="/lang/en?next=%2Fchain"' in page.text


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/a\nb", "/" + "a" * 600, ""],
)
async def test_the_switch_only_goes_back_to_this_node(client: httpx.AsyncClient, target: str) -> None:
    answer = await client.get("/lang/en", params={"next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
