"""Identity: a public key claims a pseudonym (uid), once and forever (rules.md §5.1)."""

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self

from protocol.crypto import NO_SIGNATURE, PublicKey, Signature
from protocol.documents.base import BlockRef, Kind, SignedDocument
from protocol.fields import read_public_key, read_signature, read_text
from protocol.keys import Keypair

UID_PATTERN = re.compile(r"[A-Za-z0-9_\-]{2,100}")


@dataclass(frozen=True, slots=True)
class Identity(SignedDocument):
    """Fields: issuer, uid, block (the reference block), signature."""

    KIND: ClassVar[Kind] = Kind.IDENTITY
    MAX_SIZE: ClassVar[int] = 512
    FIELD_COUNT: ClassVar[int] = 4

    currency: str
    issuer: PublicKey
    uid: str
    block: BlockRef
    signature: Signature = NO_SIGNATURE

    def body_items(self) -> list[Any]:
        return [self.issuer, self.uid, self.block.to_item()]

    @classmethod
    def from_body(cls, currency: str, items: list[Any]) -> Self:
        issuer, uid, block, signature = items
        return cls(
            currency=currency,
            issuer=read_public_key(issuer, "identity.issuer"),
            uid=read_text(uid, "identity.uid", max_length=100, pattern=UID_PATTERN),
            block=BlockRef.from_item(block, "identity.block"),
            signature=read_signature(signature, "identity.signature"),
        )

    @classmethod
    def create(cls, keypair: Keypair, currency: str, uid: str, block: BlockRef) -> Self:
        """A new identity for `keypair`, signed."""
        unsigned = cls(currency=currency, issuer=keypair.public_key, uid=uid, block=block)
        return replace(unsigned, signature=keypair.sign(unsigned.signing_message()))
