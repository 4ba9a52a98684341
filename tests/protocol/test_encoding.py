"""Canonical CBOR: round trips, and every kind of non-canonical or malformed input is refused."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.encoding import decode, encode
from protocol.errors import DecodeError, MalformedCbor, NonCanonical, TooLarge

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5),
    max_leaves=30,
)


@given(plain)
def test_round_trip(value: object) -> None:
    assert decode(encode(value), max_size=1 << 20) == value


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_garbage_is_rejected_with_a_typed_error_or_decodes_canonically(data: bytes) -> None:
    try:
        value = decode(data, max_size=1 << 20)
    except DecodeError:
        return
    assert encode(value) == data


@pytest.mark.parametrize(
    ("hex_bytes", "reason"),
    [
        ("1801", "integer 1 written on two bytes"),
        ("190001", "integer 1 written on three bytes"),
        ("5800", "empty byte string with a one-byte length"),
        ("fb3ff0000000000000", "1.0 as a double instead of a half"),
        ("a2616202616101", "map keys out of order"),
    ],
)
def test_non_canonical_is_rejected(hex_bytes: str, reason: str) -> None:
    with pytest.raises(NonCanonical):
        decode(bytes.fromhex(hex_bytes), max_size=100)


@pytest.mark.parametrize(
    ("hex_bytes", "reason"),
    [
        ("", "empty"),
        ("0102", "trailing bytes"),
        ("8201", "truncated array"),
        ("9f01ff", "indefinite-length array"),
        ("5f4101ff", "indefinite-length byte string"),
        ("c249010000000000000000", "bignum tag"),
        ("c11a514b67b0", "date tag"),
        ("d9d9f701", "self-describe tag"),
        ("a2616101616102", "duplicate map key"),
        ("62c328", "invalid UTF-8"),
        ("ff", "lone break"),
    ],
)
def test_malformed_is_rejected(hex_bytes: str, reason: str) -> None:
    with pytest.raises(MalformedCbor):
        decode(bytes.fromhex(hex_bytes), max_size=100)


def test_size_cap_applies_before_decoding() -> None:
    data = encode(b"x" * 100)
    assert decode(data, max_size=len(data)) == b"x" * 100
    with pytest.raises(TooLarge, match="cap is"):
        decode(data, max_size=len(data) - 1)


def test_deep_nesting_is_rejected() -> None:
    data = bytes.fromhex("81") * 50 + b"\x00"
    with pytest.raises(MalformedCbor):
        decode(data, max_size=100)


def test_not_bytes_is_rejected() -> None:
    with pytest.raises(MalformedCbor, match="expected bytes"):
        decode("text", max_size=100)  # type: ignore[arg-type]
