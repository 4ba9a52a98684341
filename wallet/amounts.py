"""Amounts as people write them (`12.50`) and as the protocol counts them (cents)."""

import re

from wallet.errors import InputError

_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")


def parse_amount(text: str) -> int:
    """`12`, `12.5` or `12.50` → 1250 cents; anything else, zero included, is refused."""
    text = text.strip().replace(",", ".")
    if not _AMOUNT.match(text):
        raise InputError(f"not an amount: {text!r} (write e.g. 12 or 12.50)")
    units, _, decimals = text.partition(".")
    cents = int(units) * 100 + int(decimals.ljust(2, "0") or 0)
    if cents == 0:
        raise InputError("the amount must be more than 0")
    return cents


def format_amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def in_dividends(cents: int, dividend_cents: int) -> str:
    """The amount relative to the current UD (the relative theory of money's unit)."""
    return "—" if dividend_cents <= 0 else f"{cents / dividend_cents:.2f} UD"
