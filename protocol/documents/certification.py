"""Certification: a member vouches for another identity (rules.md §5.2).

The document names the receiver's identity by its hash, so the signature binds the certification
to one identity document and can be checked without looking anything up.
"""

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self

from protocol.crypto import NO_SIGNATURE, Hash, PublicKey, Signature
from protocol.documents.base import BlockRef, Kind, SignedDocument
from protocol.fields import read_hash, read_public_key, read_signature
from protocol.keys import Keypair


@dataclass(frozen=True, slots=True)
class Certification(SignedDocument):
    """Fields: issuer, receiver, identity (hash of the receiver's identity), block, signature."""

    KIND: ClassVar[Kind] = Kind.CERTIFICATION
    MAX_SIZE: ClassVar[int] = 512
    FIELD_COUNT: ClassVar[int] = 5

    currency: str
    issuer: PublicKey
    receiver: PublicKey
    identity: Hash
    block: BlockRef
    signature: Signature = NO_SIGNATURE

    def body_items(self) -> list[Any]:
        return [self.issuer, self.receiver, self.identity, self.block.to_item()]

    @classmethod
    def from_body(cls, currency: str, items: list[Any]) -> Self:
        issuer, receiver, identity, block, signature = items
        return cls(
            currency=currency,
            issuer=read_public_key(issuer, "certification.issuer"),
            receiver=read_public_key(receiver, "certification.receiver"),
            identity=read_hash(identity, "certification.identity"),
            block=BlockRef.from_item(block, "certification.block"),
            signature=read_signature(signature, "certification.signature"),
        )

    @classmethod
    def create(
        cls, keypair: Keypair, currency: str, receiver: PublicKey, identity: Hash, block: BlockRef
    ) -> Self:
        """A certification by `keypair` of the identity whose hash is `identity`, signed."""
        unsigned = cls(
            currency=currency, issuer=keypair.public_key, receiver=receiver, identity=identity, block=block
        )
        return replace(unsigned, signature=keypair.sign(unsigned.signing_message()))
