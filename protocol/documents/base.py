"""What every signed document shares: its kind, the envelope, block references and signing.

Encoded form of a document: `[kind, version, currency, field…, signature]`, a canonical CBOR array.
The signature covers `signing_message(currency, kind name, version, canonical([kind, version,
currency, field…]))`, so the bytes signed are the document without its signature (design.md §4).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Self

from protocol.crypto import ZERO_HASH, Hash, PublicKey, Signature, sha256, signing_message, verify
from protocol.encoding import decode, encode
from protocol.errors import InvalidSignature, SchemaError
from protocol.fields import read_array, read_currency, read_hash, read_int

#: Format version of every document kind defined here.
VERSION = 1


class Kind(IntEnum):
    """The first field of every encoded document; also part of what its signature covers."""

    IDENTITY = 1
    CERTIFICATION = 2
    MEMBERSHIP = 3
    REVOCATION = 4
    TRANSACTION = 5
    BLOCK = 6


class WrongCurrency(SchemaError):
    """A well-formed document of another currency than the one expected."""


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block named by number and hash (Duniter's *blockstamp*), encoded `[number, hash]`."""

    number: int
    hash: Hash

    def to_item(self) -> list[Any]:
        return [self.number, self.hash]

    @classmethod
    def from_item(cls, value: Any, what: str) -> "BlockRef":
        number, digest = read_array(value, 2, what)
        return cls(read_int(number, f"{what}.number"), read_hash(digest, f"{what}.hash"))

    def __str__(self) -> str:
        return f"{self.number}-{self.hash.hex().upper()}"


#: The reference used by documents written in block 0, before any block exists (rules.md §1).
GENESIS_REF = BlockRef(0, ZERO_HASH)


def read_envelope(value: Any, kind: Kind, length: int, currency: str | None) -> list[Any]:
    """Check `[kind, version, currency, …]` and the field count; return the items."""
    what = kind.name.lower()
    if isinstance(value, list) and value and type(value[0]) is int and value[0] != kind:
        found = Kind(value[0]).name.lower() if value[0] in Kind._value2member_map_ else str(value[0])
        raise SchemaError(f"expected a document of kind {what}, got kind {found}")
    items = read_array(value, length, what)
    read_int(items[0], f"{what}.kind")
    if items[1] != VERSION or type(items[1]) is not int:
        raise SchemaError(f"{what}.version: expected {VERSION}, got {items[1]!r}")
    found_currency = read_currency(items[2], f"{what}.currency")
    if currency is not None and found_currency != currency:
        raise WrongCurrency(f"{what}: currency is {found_currency!r}, expected {currency!r}")
    return items


class SignedDocument(ABC):
    """Shared encoding and signature logic; subclasses are frozen data classes.

    A subclass declares `KIND`, `MAX_SIZE` (bytes), `FIELD_COUNT` (fields after the envelope,
    signature included) and implements `body_items()` and `from_body()`.
    """

    KIND: ClassVar[Kind]
    MAX_SIZE: ClassVar[int]
    FIELD_COUNT: ClassVar[int]

    __slots__ = ()

    currency: str
    issuer: PublicKey
    signature: Signature

    @abstractmethod
    def body_items(self) -> list[Any]:
        """The document's own fields, signature excluded, in encoding order."""

    @classmethod
    @abstractmethod
    def from_body(cls, currency: str, items: list[Any]) -> Self:
        """Build the document from its fields (signature last); raise `SchemaError` on bad fields."""

    def unsigned_items(self) -> list[Any]:
        return [int(self.KIND), VERSION, self.currency, *self.body_items()]

    def to_item(self) -> list[Any]:
        """The document as a plain CBOR value (how it is nested inside a block)."""
        return [*self.unsigned_items(), self.signature]

    def to_bytes(self) -> bytes:
        return encode(self.to_item())

    @property
    def hash(self) -> Hash:
        """SHA-256 of the canonical signed bytes: the document's identifier."""
        return sha256(self.to_bytes())

    def signing_message(self) -> bytes:
        return signing_message(self.currency, self.KIND.name.lower(), VERSION, encode(self.unsigned_items()))

    def is_signature_valid(self) -> bool:
        return verify(self.issuer, self.signing_message(), self.signature)

    def verify(self) -> None:
        """Raise `InvalidSignature` unless the issuer's signature is valid."""
        if not self.is_signature_valid():
            raise InvalidSignature(f"{self.KIND.name.lower()}: signature does not verify for its issuer")

    @classmethod
    def from_item(cls, value: Any, *, currency: str | None = None) -> Self:
        """Decode from a plain CBOR value (as found inside a block)."""
        items = read_envelope(value, cls.KIND, 3 + cls.FIELD_COUNT, currency)
        return cls.from_body(items[2], items[3:])

    @classmethod
    def from_bytes(cls, data: bytes, *, currency: str | None = None) -> Self:
        """Strictly decode canonical bytes; `currency`, when given, must match."""
        return cls.from_item(decode(data, max_size=cls.MAX_SIZE), currency=currency)
