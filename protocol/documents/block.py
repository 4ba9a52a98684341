"""Block: a header committing to the state after it, the documents it writes, its proof of work.

Encoded form: `[kind, version, currency, number, pow_min, time, median_time, members_count, unit_base,
issuers_count, issuers_frame, issuers_frame_var, dividend, issuer, previous_hash, previous_issuer,
parameters, state_digest, identities, joiners, actives, leavers, revocations, excluded, certifications,
transactions, nonce, signature]`; `dividend`, `previous_hash`, `previous_issuer` and `parameters` are
null where absent.

Hashing and signing, in the order a forger does them:
1. `inner_hash` = SHA-256 of the canonical encoding of every field before `nonce`;
2. `hash` = SHA-256(inner_hash ‖ nonce as 8 big-endian bytes): the proof-of-work search only
   rehashes 40 bytes per try and needs no secret key;
3. `signature` = the issuer's signature of `hash` (domain-separated, kind "block"), so it covers
   every field and the nonce.
The block's identifier is `hash`.
"""

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar, Self

from protocol.crypto import NO_SIGNATURE, Hash, PublicKey, Signature, sha256, signing_message, verify
from protocol.documents.base import VERSION, Kind, read_envelope
from protocol.documents.certification import Certification
from protocol.documents.identity import Identity
from protocol.documents.membership import Membership
from protocol.documents.revocation import Revocation
from protocol.documents.transaction import Transaction
from protocol.encoding import decode, encode
from protocol.errors import InvalidSignature
from protocol.fields import (
    MIN_INT,
    read_hash,
    read_int,
    read_list,
    read_public_key,
    read_signature,
)
from protocol.keys import Keypair
from protocol.params import CurrencyParameters

#: Byte cap of one encoded block (a June choice that keeps a block under libp2p's 1 MiB frames).
MAX_BLOCK_SIZE = 1_000_000
_MAX_ITEMS = 20_000
NONCE_MAX = 2**64 - 1
FIELD_COUNT = 28


@dataclass(frozen=True)
class Block:
    """A block; `inner_hash` and `hash` are computed once per instance (no slots, for the cache)."""

    KIND: ClassVar[Kind] = Kind.BLOCK
    MAX_SIZE: ClassVar[int] = MAX_BLOCK_SIZE

    currency: str
    number: int
    pow_min: int
    time: int
    median_time: int
    members_count: int
    unit_base: int
    issuers_count: int
    issuers_frame: int
    issuers_frame_var: int
    dividend: int | None
    issuer: PublicKey
    previous_hash: Hash | None
    previous_issuer: PublicKey | None
    parameters: CurrencyParameters | None
    state_digest: Hash
    identities: tuple[Identity, ...] = ()
    joiners: tuple[Membership, ...] = ()
    actives: tuple[Membership, ...] = ()
    leavers: tuple[Membership, ...] = ()
    revocations: tuple[Revocation, ...] = ()
    excluded: tuple[PublicKey, ...] = ()
    certifications: tuple[Certification, ...] = ()
    transactions: tuple[Transaction, ...] = ()
    nonce: int = 0
    signature: Signature = NO_SIGNATURE

    def unsigned_items(self) -> list[Any]:
        """Every field before the nonce: what `inner_hash` covers."""
        return [
            int(Kind.BLOCK),
            VERSION,
            self.currency,
            self.number,
            self.pow_min,
            self.time,
            self.median_time,
            self.members_count,
            self.unit_base,
            self.issuers_count,
            self.issuers_frame,
            self.issuers_frame_var,
            self.dividend,
            self.issuer,
            self.previous_hash,
            self.previous_issuer,
            None if self.parameters is None else self.parameters.to_item(),
            self.state_digest,
            [d.to_item() for d in self.identities],
            [d.to_item() for d in self.joiners],
            [d.to_item() for d in self.actives],
            [d.to_item() for d in self.leavers],
            [d.to_item() for d in self.revocations],
            list(self.excluded),
            [d.to_item() for d in self.certifications],
            [d.to_item() for d in self.transactions],
        ]

    def to_item(self) -> list[Any]:
        return [*self.unsigned_items(), self.nonce, self.signature]

    def to_bytes(self) -> bytes:
        return encode(self.to_item())

    @cached_property
    def inner_hash(self) -> Hash:
        return sha256(encode(self.unsigned_items()))

    @cached_property
    def hash(self) -> Hash:
        """The block's identifier and proof-of-work hash."""
        return proof_hash(self.inner_hash, self.nonce)

    def signing_message(self) -> bytes:
        return signing_message(self.currency, "block", VERSION, self.hash)

    def is_signature_valid(self) -> bool:
        """Checked once per instance: a gossiped block is verified before it is relayed, and the
        rules find the answer already known when the same object reaches them."""
        return self._signature_valid

    @cached_property
    def _signature_valid(self) -> bool:
        return verify(self.issuer, self.signing_message(), self.signature)

    def verify(self) -> None:
        """Raise `InvalidSignature` unless the issuer signed this block's hash."""
        if not self.is_signature_valid():
            raise InvalidSignature(f"block {self.number}: signature does not verify for its issuer")

    def signed(self, keypair: Keypair, nonce: int) -> Self:
        """The block with `nonce` and the signature of `keypair`, which must be the issuer's."""
        if keypair.public_key != self.issuer:
            raise ValueError("a block is signed by its issuer")
        with_nonce = replace(self, nonce=nonce)
        return replace(with_nonce, signature=keypair.sign(with_nonce.signing_message()))

    @classmethod
    def from_item(cls, value: Any, *, currency: str | None = None) -> Self:
        items = read_envelope(value, Kind.BLOCK, FIELD_COUNT, currency)
        cur: str = items[2]
        (number, pow_min, time, median_time, members_count, unit_base, issuers_count, issuers_frame,
         issuers_frame_var, dividend, issuer, previous_hash, previous_issuer, parameters, state_digest,
         identities, joiners, actives, leavers, revocations, excluded, certifications, transactions,
         nonce, signature) = items[3:]  # fmt: skip

        def documents(value: Any, name: str, kind: Any) -> tuple[Any, ...]:
            return tuple(
                kind.from_item(v, currency=cur)
                for v in read_list(value, f"block.{name}", max_items=_MAX_ITEMS)
            )

        return cls(
            currency=cur,
            number=read_int(number, "block.number"),
            pow_min=read_int(pow_min, "block.pow_min"),
            time=read_int(time, "block.time"),
            median_time=read_int(median_time, "block.median_time"),
            members_count=read_int(members_count, "block.members_count"),
            unit_base=read_int(unit_base, "block.unit_base"),
            issuers_count=read_int(issuers_count, "block.issuers_count"),
            issuers_frame=read_int(issuers_frame, "block.issuers_frame"),
            issuers_frame_var=read_int(issuers_frame_var, "block.issuers_frame_var", minimum=MIN_INT),
            dividend=None if dividend is None else read_int(dividend, "block.dividend", minimum=1),
            issuer=read_public_key(issuer, "block.issuer"),
            previous_hash=None if previous_hash is None else read_hash(previous_hash, "block.previous_hash"),
            previous_issuer=None
            if previous_issuer is None
            else read_public_key(previous_issuer, "block.previous_issuer"),
            parameters=None
            if parameters is None
            else CurrencyParameters.from_item(parameters, "block.parameters"),
            state_digest=read_hash(state_digest, "block.state_digest"),
            identities=documents(identities, "identities", Identity),
            joiners=documents(joiners, "joiners", Membership),
            actives=documents(actives, "actives", Membership),
            leavers=documents(leavers, "leavers", Membership),
            revocations=documents(revocations, "revocations", Revocation),
            excluded=tuple(
                read_public_key(k, f"block.excluded[{n}]")
                for n, k in enumerate(read_list(excluded, "block.excluded", max_items=_MAX_ITEMS))
            ),
            certifications=documents(certifications, "certifications", Certification),
            transactions=documents(transactions, "transactions", Transaction),
            nonce=read_int(nonce, "block.nonce", maximum=NONCE_MAX),
            signature=read_signature(signature, "block.signature"),
        )

    @classmethod
    def from_bytes(cls, data: bytes, *, currency: str | None = None) -> Self:
        return cls.from_item(decode(data, max_size=cls.MAX_SIZE), currency=currency)


def proof_hash(inner_hash: bytes, nonce: int) -> Hash:
    """SHA-256(inner_hash ‖ nonce): the hash the proof of work is searched on."""
    return sha256(inner_hash + nonce.to_bytes(8, "big"))
