"""Payment URIs: every valid request survives format → parse, and hostile URIs are refused with a reason."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.crypto import PublicKey
from protocol.fields import MAX_INT
from protocol.keys import Keypair, checksum, pubkey_display, pubkey_to_base58
from protocol.payment_uri import (
    MAX_URI_LENGTH,
    PaymentRequest,
    PaymentUriError,
    format_payment_uri,
    parse_payment_uri,
)

KEY = Keypair(bytes(range(32))).public_key
B58 = pubkey_to_base58(KEY)
CHK = checksum(KEY)

keys = st.binary(min_size=32, max_size=32).map(lambda seed: Keypair(seed).public_key)
cents = st.integers(min_value=1, max_value=MAX_INT)
uds = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**9), places=4, allow_nan=False)
comments = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=255)
currencies = st.from_regex(r"[a-zA-Z0-9\-_ ]{2,50}", fullmatch=True)


@st.composite
def requests(draw: st.DrawFn) -> PaymentRequest:
    amount = draw(st.sampled_from(["none", "cents", "ud"]))
    return PaymentRequest(
        recipient=draw(keys),
        amount_cents=draw(cents) if amount == "cents" else None,
        amount_ud=draw(uds) if amount == "ud" else None,
        comment=draw(comments),
        currency=draw(st.none() | currencies),
    )


@given(requests())
def test_round_trip(request: PaymentRequest) -> None:
    uri = format_payment_uri(request)
    assert parse_payment_uri(uri) == request
    assert len(uri) <= MAX_URI_LENGTH
    assert uri.isascii() and " " not in uri


def test_documented_example() -> None:
    uri = f"june:{B58}:{CHK}?amount=12.50&comment=Don%20au%20hacklab&currency=g1-test"
    request = parse_payment_uri(uri)
    assert request == PaymentRequest(KEY, amount_cents=1250, comment="Don au hacklab", currency="g1-test")
    assert format_payment_uri(request) == uri


def test_minimal_uri_and_lenient_parts() -> None:
    assert format_payment_uri(PaymentRequest(KEY)) == f"june:{pubkey_display(KEY)}"
    # no checksum, upper-case scheme and names, whitespace around, empty pieces, unknown parameters
    request = parse_payment_uri(f"  JUNE:{B58}?&AMOUNT=3&label=Hacklab&message=x&&  ")
    assert request == PaymentRequest(KEY, amount_cents=300)
    assert parse_payment_uri(f"june:{B58}?ud=1.5").amount_ud == Decimal("1.5")
    assert parse_payment_uri(f"june:{B58}?amount=0.5").amount_cents == 50
    assert parse_payment_uri(f"june:{B58}?comment=a+b%2Bc%C3%A9").comment == "a+b+cé"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        (f"june:{B58}:{'abc' if CHK != 'abc' else 'abd'}", "checksum mismatch"),
        (f"june:{B58[:-1]}0", "Base58"),
        (f"june:{B58[:-3]}", "decodes to"),
        (f"june:{B58}?amount=1&ud=1", "not both"),
        (f"june:{B58}?amount=1.234", "at most two decimals"),
        (f"june:{B58}?amount=-1", "not an amount"),
        (f"june:{B58}?amount=0", "more than 0"),
        (f"june:{B58}?amount=0.00", "more than 0"),
        (f"june:{B58}?amount=1e3", "not an amount"),
        (f"june:{B58}?amount=1,50", "not an amount"),
        (f"june:{B58}?ud=0", "more than 0"),
        (f"june:{B58}?ud=-1", "not an amount in UD"),
        (f"june:{B58}?ud=NaN", "not an amount in UD"),
        (f"june:{B58}?ud=1" + "0" * 40, "not an amount in UD"),
        (f"june:{B58}?amount=1&req-expires=20270101", "does not understand"),
        (f"june:{B58}?amount=1&amount=2", "given twice"),
        (f"june:{B58}?comment=a&Comment=b", "given twice"),
        (f"june:{B58}?comment=" + "a" * MAX_URI_LENGTH, "at most"),
        (f"june:{B58}?comment=" + "a" * 256, "at most 255"),
        (f"june:{B58}?comment=%ZZ", "two hexadecimal digits"),
        (f"june:{B58}?comment=abc%", "two hexadecimal digits"),
        (f"june:{B58}?comment=%C3%28", "not UTF-8"),
        (f"june:{B58}?comment=line%0Abreak", "control characters"),
        (f"june:{B58}?comment=tab%09", "control characters"),
        (f"june:{B58}?comment=Don au hacklab", "percent-encode"),
        (f"june:{B58}?comment=café", "percent-encode"),
        (f"june:{B58}?comment=a#b", "fragment"),
        (f"june:{B58}?currency=x", "not a currency name"),
        (f"june:{B58}?currency=g1%2Ftest", "not a currency name"),
        (f"bitcoin:{B58}", "must start with june:"),
        (B58, "must start with june:"),
        ("june:", "Base58 key"),
        (f"june://{B58}", "Base58 key"),
    ],
)
def test_hostile_uris_are_refused(uri: str, reason: str) -> None:
    with pytest.raises(PaymentUriError, match=reason):
        parse_payment_uri(uri)


def test_the_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_payment_uri("june:nothing")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"amount_cents": 100, "amount_ud": Decimal(1)}, "not both"),
        ({"amount_cents": 0}, "more than 0"),
        ({"amount_cents": True}, "integer"),
        ({"amount_ud": Decimal("-1")}, "more than 0"),
        ({"amount_ud": Decimal("NaN")}, "finite"),
        ({"amount_ud": Decimal("1E+100")}, "out of range"),
        ({"comment": "a\nb"}, "control characters"),
        ({"currency": "é"}, "not a currency name"),
        ({"recipient": PublicKey(bytes(32))}, "40 to 44"),
        ({"recipient": PublicKey(b"short")}, "32-byte"),
    ],
)
def test_invalid_requests_cannot_be_built(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(PaymentUriError, match=reason):
        PaymentRequest(**({"recipient": KEY} | fields))  # type: ignore[arg-type]
