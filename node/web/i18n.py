"""Language of a page and how its numbers and dates are written.

The language comes from the `lang` cookie the switch sets, else the browser's Accept-Language,
else English. Strings are translated by gettext catalogues (`locale/<lang>/LC_MESSAGES/june-web.mo`,
made by `make web-catalogues`); numbers and dates are formatted here, per language, because babel
is only a tool of the build, not a dependency of the node.
"""

import gettext
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from protocol.amounts import format_cents

DOMAIN = "june-web"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "fr")
DEFAULT = "en"
COOKIE = "lang"
#: Accept-Language headers longer than this are not parsed (a hostile header costs nothing).
MAX_ACCEPT = 500
MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
}


def choose_language(cookie: str | None, accept: str | None) -> str:
    """The cookie's language if it is one we speak, else the browser's first one we speak (by its
    q weights), else English."""
    if cookie in LANGUAGES:
        return cookie
    if accept and len(accept) <= MAX_ACCEPT:
        weighted = []
        for position, part in enumerate(accept.split(",")):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            primary = tag.strip().lower().split("-")[0]
            if primary in LANGUAGES and quality > 0:
                weighted.append((-quality, position, primary))
        if weighted:
            return min(weighted)[2]
    return DEFAULT


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language` (English is the source: no catalogue)."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    return separator.join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])


def format_number(value: float | int, language: str, decimals: int = 0) -> str:
    """`1,234.5` in English, `1 234,5` in French (a narrow no-break space groups the thousands)."""
    text = f"{abs(value):.{decimals}f}"
    whole, _, fraction = text.partition(".")
    separator, point = (",", ".") if language == "en" else ("\u202f", ",")
    sign = "-" if value < 0 and text.strip("0.") else ""
    return sign + _group(whole, separator) + (point + fraction if fraction else "")


def format_money(cents: int, language: str) -> str:
    """An amount in cents as units with two decimals, per language (`format_cents`'s figures)."""
    whole, _, fraction = format_cents(cents).lstrip("-").partition(".")
    separator, point = (",", ".") if language == "en" else ("\u202f", ",")
    return ("-" if cents < 0 else "") + _group(whole, separator) + point + (fraction or "00")


def format_date(timestamp: int | None, language: str, *, with_time: bool = False) -> str:
    """A Unix time (the chain's median time) as a UTC date: `Nov 26, 2026` or `26 nov. 2026`."""
    if timestamp is None:
        return "—"
    moment = datetime.fromtimestamp(timestamp, UTC)
    month = MONTHS[language][moment.month - 1]
    day = (
        f"{month} {moment.day}, {moment.year}" if language == "en" else f"{moment.day} {month} {moment.year}"
    )
    return f"{day} {moment:%H:%M} UTC" if with_time else day
