"""Readers that turn decoded CBOR values into typed fields, or raise `SchemaError` naming the field.

Every June document is a CBOR array of positional fields (smaller and about three times faster to
encode canonically than maps, design.md §4); these small functions check one field each, so a
decoder reads as the list of its fields.
"""

import re
from typing import Any, TypeVar

from protocol.crypto import HASH_SIZE, PUBLIC_KEY_SIZE, SIGNATURE_SIZE, Hash, PublicKey, Signature
from protocol.errors import SchemaError

T = TypeVar("T")

#: Largest integer any field may hold (rules.md §1 allows 19 digits; June keeps to signed 64 bits).
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
CURRENCY_PATTERN = re.compile(r"[a-zA-Z0-9\-_ ]{2,50}")


def read_array(value: Any, length: int, what: str) -> list[Any]:
    """An array of exactly `length` items."""
    if not isinstance(value, list):
        raise SchemaError(f"{what}: expected an array, got {_type_name(value)}")
    if len(value) != length:
        word = "missing fields" if len(value) < length else "unknown extra fields"
        raise SchemaError(f"{what}: expected {length} fields, got {len(value)} ({word})")
    return value


def read_list(value: Any, what: str, *, max_items: int) -> list[Any]:
    """An array of at most `max_items` items (each read by the caller)."""
    if not isinstance(value, list):
        raise SchemaError(f"{what}: expected an array, got {_type_name(value)}")
    if len(value) > max_items:
        raise SchemaError(f"{what}: {len(value)} items, at most {max_items} allowed")
    return value


def read_int(value: Any, what: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """An integer in [minimum, maximum]; booleans are not integers here."""
    if type(value) is not int:
        raise SchemaError(f"{what}: expected an integer, got {_type_name(value)}")
    if not minimum <= value <= maximum:
        raise SchemaError(f"{what}: {value} is out of range [{minimum}, {maximum}]")
    return value


def read_float(value: Any, what: str, *, minimum: float, maximum: float) -> float:
    """A finite float in [minimum, maximum] (only currency parameters use floats)."""
    if type(value) is not float:
        raise SchemaError(f"{what}: expected a float, got {_type_name(value)}")
    if not minimum <= value <= maximum:  # also rejects NaN
        raise SchemaError(f"{what}: {value} is out of range [{minimum}, {maximum}]")
    return value


def read_bytes(value: Any, what: str, *, size: int) -> bytes:
    """A byte string of exactly `size` bytes."""
    if type(value) is not bytes:
        raise SchemaError(f"{what}: expected a byte string, got {_type_name(value)}")
    if len(value) != size:
        raise SchemaError(f"{what}: expected {size} bytes, got {len(value)}")
    return value


def read_text(value: Any, what: str, *, max_length: int, pattern: re.Pattern[str] | None = None) -> str:
    """A text string of at most `max_length` characters, matching `pattern` in full when given."""
    if type(value) is not str:
        raise SchemaError(f"{what}: expected a text string, got {_type_name(value)}")
    if len(value) > max_length:
        raise SchemaError(f"{what}: {len(value)} characters, at most {max_length} allowed")
    if pattern is not None and pattern.fullmatch(value) is None:
        raise SchemaError(f"{what}: {value[:60]!r} does not match {pattern.pattern}")
    return value


def read_public_key(value: Any, what: str) -> PublicKey:
    return PublicKey(read_bytes(value, what, size=PUBLIC_KEY_SIZE))


def read_signature(value: Any, what: str) -> Signature:
    return Signature(read_bytes(value, what, size=SIGNATURE_SIZE))


def read_hash(value: Any, what: str) -> Hash:
    return Hash(read_bytes(value, what, size=HASH_SIZE))


def read_currency(value: Any, what: str) -> str:
    return read_text(value, what, max_length=50, pattern=CURRENCY_PATTERN)


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", bytes: "a byte string"}
    names |= {str: "a text string", list: "an array", dict: "a map", type(None): "null"}
    return names.get(type(value), type(value).__name__)
