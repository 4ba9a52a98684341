"""Canonical CBOR: deterministic encoding and strict decoding.

Every June document travels and is stored as one CBOR item in the core deterministic encoding of
RFC 8949 §4.2.1 (shortest integers and lengths, definite lengths, sorted map keys, shortest floats).
Decoding accepts exactly those bytes: anything over the size cap, malformed, followed by trailing
bytes, tagged, or not re-encoding to the very same bytes is rejected with a typed error. Because there
is one encoding per value, hashes and signatures over encoded bytes are unambiguous.
"""

import io
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import cbor2

from protocol.errors import MalformedCbor, NonCanonical, TooLarge

#: Deepest nesting any June document needs (block → transaction → input → field is 4 deep).
MAX_DEPTH = 12


def encode(value: Any) -> bytes:
    """Encode a value of plain CBOR types (int, bytes, str, list, float, bool, None) canonically."""
    return cbor2.dumps(value, canonical=True)


def decode(data: bytes, *, max_size: int) -> Any:
    """Decode one canonical CBOR item of at most `max_size` bytes, or raise a `DecodeError`."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedCbor(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_size:
        raise TooLarge(f"{len(data)} bytes, the cap is {max_size}")
    if not data:
        raise MalformedCbor("empty input")
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(
            stream,
            semantic_decoders=_NoTags(),
            allow_indefinite=False,
            allow_duplicate_keys=False,
            max_depth=MAX_DEPTH,
        ).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, _TagRejected) else exc
        raise MalformedCbor(f"not well-formed CBOR: {cause}") from exc
    if stream.tell() != len(data):
        raise MalformedCbor(f"{len(data) - stream.tell()} trailing bytes after the CBOR item")
    if encode(value) != data:
        raise NonCanonical("bytes are not in the deterministic CBOR encoding (RFC 8949 §4.2.1)")
    return value


class _TagRejected(ValueError):
    pass


class _NoTags(Mapping[int, Callable[..., Any]]):
    """A semantic-decoder table that refuses every tag: June documents use none.

    cbor2 looks every tag up here, its built-in ones (dates, bignums, …) included.
    """

    def __getitem__(self, tag: int) -> Callable[..., Any]:
        def reject(*_args: Any) -> Any:
            raise _TagRejected(f"CBOR tag {tag} is not allowed in June documents")

        return reject

    def __contains__(self, tag: object) -> bool:
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0
