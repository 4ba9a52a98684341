"""Reading figures back from a page, as a browser test would: by their stable ids."""

import re
from decimal import Decimal
from html import unescape


def text_of(html: str, element_id: str) -> str:
    """The text of the element with `element_id` (its inner tags dropped, entities decoded)."""
    closing = "(dd|span|p|h1|td|time|code|a|strong)"
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</{closing}>', html, re.S)
    assert found is not None, f"no element with id {element_id!r}"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def cents_of(text: str, language: str = "en") -> int:
    """`1,234.50` (en) or `1 234,50` (fr) → 123450."""
    plain = text.replace(",", "") if language == "en" else text.replace("\u202f", "").replace(",", ".")
    return int(Decimal(plain) * 100)


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', html)
    assert found is not None
    return found.group(1)


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return unescape(found.group(1))
