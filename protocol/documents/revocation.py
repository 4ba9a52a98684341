"""Revocation: an identity's owner retires it for good (rules.md §5.5).

It names the identity by hash, so it can be signed in advance, kept offline, and published later
(for a lost key) by anyone holding it.
"""

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self

from protocol.crypto import NO_SIGNATURE, Hash, PublicKey, Signature
from protocol.documents.base import Kind, SignedDocument
from protocol.fields import read_hash, read_public_key, read_signature
from protocol.keys import Keypair


@dataclass(frozen=True, slots=True)
class Revocation(SignedDocument):
    """Fields: issuer (the revoked identity's key), identity (its hash), signature."""

    KIND: ClassVar[Kind] = Kind.REVOCATION
    MAX_SIZE: ClassVar[int] = 256
    FIELD_COUNT: ClassVar[int] = 3

    currency: str
    issuer: PublicKey
    identity: Hash
    signature: Signature = NO_SIGNATURE

    def body_items(self) -> list[Any]:
        return [self.issuer, self.identity]

    @classmethod
    def from_body(cls, currency: str, items: list[Any]) -> Self:
        issuer, identity, signature = items
        return cls(
            currency=currency,
            issuer=read_public_key(issuer, "revocation.issuer"),
            identity=read_hash(identity, "revocation.identity"),
            signature=read_signature(signature, "revocation.signature"),
        )

    @classmethod
    def create(cls, keypair: Keypair, currency: str, identity: Hash) -> Self:
        """A revocation of the identity `identity` owned by `keypair`, signed."""
        unsigned = cls(currency=currency, issuer=keypair.public_key, identity=identity)
        return replace(unsigned, signature=keypair.sign(unsigned.signing_message()))
