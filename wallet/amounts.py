"""Amounts as people write them (`12.50`, `0.5 UD`) and as the protocol counts them (cents).

Only integers and `Decimal` touch money here: no float ever holds an amount, so what is shown is
what is paid, to the cent. Amounts are written by `protocol.amounts.format_cents`, the one
formatting function of June.
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from protocol.amounts import format_cents
from wallet.errors import InputError
from wallet.i18n import N_, _

_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
_UD_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
#: How an amount in UD becomes cents: to the nearest cent, a half cent upwards.
UD_ROUNDING = N_("to the nearest cent, half a cent upwards")
#: Digits kept when an amount is shown in UD.
UD_PLACES = Decimal("0.01")


def parse_amount(text: str) -> int:
    """`12`, `12.5` or `12.50` → 1250 cents; anything else, zero included, is refused."""
    text = text.strip().replace(",", ".")
    if not _AMOUNT.match(text):
        raise InputError(_("not an amount: {text} (write e.g. 12 or 12.50)").format(text=repr(text)))
    units, _point, decimals = text.partition(".")
    cents = int(units) * 100 + int(decimals.ljust(2, "0") or 0)
    if cents == 0:
        raise InputError(_("the amount must be more than 0"))
    return cents


def parse_ud_amount(text: str, dividend_cents: int) -> int:
    """An amount in UD (`0.5`, `2`, `1.25`) → cents, exactly, rounded as `UD_ROUNDING` says."""
    text = text.strip().replace(",", ".")
    if dividend_cents <= 0:
        raise InputError(_("the currency has no UD yet: give the amount in units"))
    if not _UD_AMOUNT.match(text) or len(text) > 30:
        raise InputError(_("not an amount in UD: {text} (write e.g. 0.5 or 2)").format(text=repr(text)))
    try:
        exact = Decimal(text) * dividend_cents
    except InvalidOperation as exc:
        raise InputError(_("not an amount in UD: {text}").format(text=repr(text))) from exc
    cents = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if cents == 0:
        raise InputError(_("{text} UD is less than a cent").format(text=text))
    return cents


def in_dividends(cents: int, dividend_cents: int) -> Decimal | None:
    """`cents` in UD (the relative theory of money's unit), to the hundredth; None without a UD."""
    if dividend_cents <= 0:
        return None
    return (Decimal(cents) / dividend_cents).quantize(UD_PLACES, rounding=ROUND_HALF_UP)


def format_ud(cents: int, dividend_cents: int) -> str:
    value = in_dividends(cents, dividend_cents)
    return "— UD" if value is None else f"{value} UD"


__all__ = ["UD_ROUNDING", "format_cents", "format_ud", "in_dividends", "parse_amount", "parse_ud_amount"]
