"""Amounts typed by members become cents exactly: no float anywhere, the UD rounding stated."""

from decimal import Decimal

import pytest

from protocol.amounts import format_cents
from wallet.amounts import format_ud, in_dividends, parse_amount, parse_ud_amount
from wallet.errors import InputError


@pytest.mark.parametrize(
    ("text", "cents"), [("12", 1200), ("12.5", 1250), ("0,07", 7), ("1000000.01", 100000001)]
)
def test_units(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["0", "1.234", "-3", "1e3", "nan", "12.", "", "1 000"])
def test_units_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_amount(text)


def test_ud_amounts_are_exact_and_rounded_half_up() -> None:
    assert parse_ud_amount("0.1", 1023) == 102  # 102.3 cents → 102
    assert parse_ud_amount("0.5", 1023) == 512  # 511.5 → 512: half a cent upwards
    assert parse_ud_amount("3", 1023) == 3069
    # a float would make 0.29 × 100 = 28.999…; Decimal does not
    assert parse_ud_amount("0.29", 100) == 29
    assert parse_ud_amount("1.005", 1000) == 1005


@pytest.mark.parametrize("text", ["0.0001", "abc", "1e2", "-1", "0"])
def test_ud_amounts_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_ud_amount(text, 1000)


def test_one_formatting_function() -> None:
    assert [format_cents(c) for c in (0, 5, 100, 123456, -5, -1234)] == [
        "0.00",
        "0.05",
        "1.00",
        "1234.56",
        "-0.05",
        "-12.34",
    ]
    assert in_dividends(1535, 1023) == Decimal("1.50")
    assert format_ud(1535, 1023) == "1.50 UD" and format_ud(5, 0) == "— UD"
