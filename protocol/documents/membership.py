"""Membership: a request to join or renew (IN) or to leave (OUT) the web of trust (rules.md §5.4)."""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar, Self

from protocol.crypto import NO_SIGNATURE, PublicKey, Signature
from protocol.documents.base import BlockRef, Kind, SignedDocument
from protocol.documents.identity import UID_PATTERN
from protocol.errors import SchemaError
from protocol.fields import read_public_key, read_signature, read_text
from protocol.keys import Keypair


class MembershipType(StrEnum):
    IN = "IN"
    OUT = "OUT"


@dataclass(frozen=True, slots=True)
class Membership(SignedDocument):
    """Fields: issuer, type (IN or OUT), uid (the issuer's identity), block, signature.

    In a block an IN membership is a joiner or an active (renewal) by the state of its issuer;
    an OUT membership is a leaver.
    """

    KIND: ClassVar[Kind] = Kind.MEMBERSHIP
    MAX_SIZE: ClassVar[int] = 512
    FIELD_COUNT: ClassVar[int] = 5

    currency: str
    issuer: PublicKey
    type: MembershipType
    uid: str
    block: BlockRef
    signature: Signature = NO_SIGNATURE

    def body_items(self) -> list[Any]:
        return [self.issuer, self.type.value, self.uid, self.block.to_item()]

    @classmethod
    def from_body(cls, currency: str, items: list[Any]) -> Self:
        issuer, kind, uid, block, signature = items
        if kind not in ("IN", "OUT") or type(kind) is not str:
            raise SchemaError(f"membership.type: expected 'IN' or 'OUT', got {kind!r}")
        return cls(
            currency=currency,
            issuer=read_public_key(issuer, "membership.issuer"),
            type=MembershipType(kind),
            uid=read_text(uid, "membership.uid", max_length=100, pattern=UID_PATTERN),
            block=BlockRef.from_item(block, "membership.block"),
            signature=read_signature(signature, "membership.signature"),
        )

    @classmethod
    def create(cls, keypair: Keypair, currency: str, type: MembershipType, uid: str, block: BlockRef) -> Self:
        """A membership request of `keypair`, signed."""
        unsigned = cls(currency=currency, issuer=keypair.public_key, type=type, uid=uid, block=block)
        return replace(unsigned, signature=keypair.sign(unsigned.signing_message()))
