"""Transaction: issuers spend sources (UDs and earlier outputs) into new conditioned outputs (rules.md §8.2).

Encoded form: `[kind, version, currency, block, locktime, issuers, inputs, unlocks, outputs, comment,
signatures]`, where
- an input is `[amount, base, 0, member key, block number]` (a UD) or `[amount, base, 1, tx hash, index]`;
- `unlocks` holds, for each input in order, its proofs: `[0, issuer index]` (SIG) or `[1, password]` (XHX);
- an output is `[amount, base, condition text]`;
- every issuer signs the same unsigned bytes, signatures in the order of the issuers.
The transaction's hash (SHA-256 of its signed bytes) names the sources its outputs create.
"""

import re
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar, Self

from protocol.conditions import MAX_CONDITION_LENGTH, ConditionError, parse_condition
from protocol.crypto import Hash, PublicKey, Signature, sha256, signing_message, verify
from protocol.documents.base import VERSION, BlockRef, Kind, read_envelope
from protocol.encoding import decode, encode
from protocol.errors import InvalidSignature, SchemaError
from protocol.fields import (
    read_array,
    read_hash,
    read_int,
    read_list,
    read_public_key,
    read_signature,
    read_text,
)
from protocol.keys import Keypair

#: A transaction's compact form may have at most this many lines (rules.md §2, MAXIMUM_LEN_OF_COMPACT_TX).
MAX_LINES = 100
MAX_COMMENT_LENGTH = 255
#: Byte cap of one encoded transaction (a June choice; the line and length limits bind first in practice).
MAX_TRANSACTION_SIZE = 65_536
#: Largest unit base an amount may be written in.
MAX_BASE = 99
#: What a comment may hold: any text without control characters (payment URIs check the same rule).
COMMENT_PATTERN = re.compile(r"[^\x00-\x1f\x7f]*")
_PASSWORD_PATTERN = re.compile(r"[^\s()]{1,256}")


@dataclass(frozen=True, slots=True)
class DividendSource:
    """A Universal Dividend created for `member` in block `block_number`."""

    member: PublicKey
    block_number: int


@dataclass(frozen=True, slots=True)
class TransactionSource:
    """Output `index` of the transaction whose hash is `tx_hash`."""

    tx_hash: Hash
    index: int


Source = DividendSource | TransactionSource


@dataclass(frozen=True, slots=True)
class Input:
    """A source being spent, with the amount and base it holds (both must match the source)."""

    amount: int
    base: int
    source: Source

    def to_item(self) -> list[Any]:
        if isinstance(self.source, DividendSource):
            return [self.amount, self.base, 0, self.source.member, self.source.block_number]
        return [self.amount, self.base, 1, self.source.tx_hash, self.source.index]

    @classmethod
    def from_item(cls, value: Any, what: str) -> "Input":
        amount, base, kind, ref, number = read_array(value, 5, what)
        source: Source
        if kind == 0 and type(kind) is int:
            source = DividendSource(read_public_key(ref, f"{what}.member"), read_int(number, f"{what}.block"))
        elif kind == 1 and type(kind) is int:
            source = TransactionSource(read_hash(ref, f"{what}.tx"), read_int(number, f"{what}.index"))
        else:
            raise SchemaError(f"{what}.type: expected 0 (dividend) or 1 (transaction), got {kind!r}")
        return cls(
            read_int(amount, f"{what}.amount", minimum=1),
            read_int(base, f"{what}.base", maximum=MAX_BASE),
            source,
        )


@dataclass(frozen=True, slots=True)
class SigProof:
    """Proof `SIG(i)`: issuer number `issuer_index` signed the transaction."""

    issuer_index: int

    def __str__(self) -> str:
        return f"SIG({self.issuer_index})"


@dataclass(frozen=True, slots=True)
class XhxProof:
    """Proof `XHX(password)`: the password whose SHA-256 the condition names."""

    password: str

    def __str__(self) -> str:
        return f"XHX({self.password})"


Proof = SigProof | XhxProof


def _proof_to_item(proof: Proof) -> list[Any]:
    if isinstance(proof, SigProof):
        return [0, proof.issuer_index]
    return [1, proof.password]


def _proof_from_item(value: Any, what: str) -> Proof:
    kind, argument = read_array(value, 2, what)
    if kind == 0 and type(kind) is int:
        return SigProof(read_int(argument, f"{what}.issuer", maximum=MAX_LINES))
    if kind == 1 and type(kind) is int:
        return XhxProof(read_text(argument, f"{what}.password", max_length=256, pattern=_PASSWORD_PATTERN))
    raise SchemaError(f"{what}.type: expected 0 (SIG) or 1 (XHX), got {kind!r}")


@dataclass(frozen=True, slots=True)
class Output:
    """`amount` units of 10^`base` cents, spendable under `condition`."""

    amount: int
    base: int
    condition: str

    def to_item(self) -> list[Any]:
        return [self.amount, self.base, self.condition]

    @classmethod
    def from_item(cls, value: Any, what: str) -> "Output":
        amount, base, condition = read_array(value, 3, what)
        text = read_text(condition, f"{what}.condition", max_length=MAX_CONDITION_LENGTH)
        try:
            parse_condition(text)
        except ConditionError as exc:
            raise SchemaError(f"{what}.condition: {exc}") from exc
        return cls(
            read_int(amount, f"{what}.amount", minimum=1),
            read_int(base, f"{what}.base", maximum=MAX_BASE),
            text,
        )


#: CBOR heads of a transaction's arrays: its 10 unsigned items, and those with the signatures.
_UNSIGNED_HEAD = 0x80 | 10
_SIGNED_HEAD = bytes([0x80 | 11])


@dataclass(frozen=True)
class Transaction:
    """A signed transfer. `unlocks[i]` are the proofs for `inputs[i]`.

    `hash` and `signing_message` are computed once per instance (no slots, for the cache).
    """

    KIND: ClassVar[Kind] = Kind.TRANSACTION
    MAX_SIZE: ClassVar[int] = MAX_TRANSACTION_SIZE

    currency: str
    block: BlockRef
    locktime: int
    issuers: tuple[PublicKey, ...]
    inputs: tuple[Input, ...]
    unlocks: tuple[tuple[Proof, ...], ...]
    outputs: tuple[Output, ...]
    comment: str = ""
    signatures: tuple[Signature, ...] = ()

    def unsigned_items(self) -> list[Any]:
        return [
            int(Kind.TRANSACTION),
            VERSION,
            self.currency,
            self.block.to_item(),
            self.locktime,
            list(self.issuers),
            [i.to_item() for i in self.inputs],
            [[_proof_to_item(p) for p in proofs] for proofs in self.unlocks],
            [o.to_item() for o in self.outputs],
            self.comment,
        ]

    def to_item(self) -> list[Any]:
        return [*self.unsigned_items(), list(self.signatures)]

    def to_bytes(self) -> bytes:
        return self._signed_bytes

    @cached_property
    def _unsigned_bytes(self) -> bytes:
        """The canonical bytes of `unsigned_items()`: what is signed, and most of what is hashed."""
        return encode(self.unsigned_items())

    @cached_property
    def _signed_bytes(self) -> bytes:
        """`encode(to_item())` without encoding the unsigned items twice: a canonical array is its
        head then its items' encodings, and 10 or 11 items take a one-byte head (0x8a, 0x8b)."""
        unsigned = self._unsigned_bytes
        if unsigned[0] != _UNSIGNED_HEAD:  # never: unsigned_items() has 10 items
            return encode(self.to_item())
        return _SIGNED_HEAD + unsigned[1:] + encode(list(self.signatures))

    @cached_property
    def hash(self) -> Hash:
        """SHA-256 of the signed bytes; outputs become sources `(hash, index)`."""
        return sha256(self.to_bytes())

    def signing_message(self) -> bytes:
        return self._signing_message

    @cached_property
    def _signing_message(self) -> bytes:
        return signing_message(self.currency, "transaction", VERSION, self._unsigned_bytes)

    def is_signature_valid(self) -> bool:
        if len(self.signatures) != len(self.issuers):
            return False
        message = self.signing_message()
        return all(verify(k, message, s) for k, s in zip(self.issuers, self.signatures, strict=True))

    def verify(self) -> None:
        """Raise `InvalidSignature` unless every issuer signed, in order."""
        if len(self.signatures) != len(self.issuers):
            raise InvalidSignature(
                f"transaction: {len(self.issuers)} issuers but {len(self.signatures)} signatures"
            )
        message = self.signing_message()
        for index, (key, signature) in enumerate(zip(self.issuers, self.signatures, strict=True)):
            if not verify(key, message, signature):
                raise InvalidSignature(f"transaction: signature of issuer {index} does not verify")

    def compact_line_count(self) -> int:
        """Lines of Duniter's compact form, which the 100-line limit counts (rules.md §8.2)."""
        comment_line = 1 if self.comment else 0
        return 2 + 2 * len(self.issuers) + 2 * len(self.inputs) + len(self.outputs) + comment_line

    @classmethod
    def from_item(cls, value: Any, *, currency: str | None = None) -> Self:
        items = read_envelope(value, Kind.TRANSACTION, 11, currency)
        block, locktime, issuers, inputs, unlocks, outputs, comment, signatures = items[3:]
        issuer_keys = tuple(
            read_public_key(k, f"transaction.issuers[{n}]")
            for n, k in enumerate(read_list(issuers, "transaction.issuers", max_items=MAX_LINES))
        )
        input_list = tuple(
            Input.from_item(v, f"transaction.inputs[{n}]")
            for n, v in enumerate(read_list(inputs, "transaction.inputs", max_items=MAX_LINES))
        )
        unlock_list = tuple(
            tuple(
                _proof_from_item(p, f"transaction.unlocks[{n}][{m}]")
                for m, p in enumerate(read_list(proofs, f"transaction.unlocks[{n}]", max_items=MAX_LINES))
            )
            for n, proofs in enumerate(read_list(unlocks, "transaction.unlocks", max_items=MAX_LINES))
        )
        output_list = tuple(
            Output.from_item(v, f"transaction.outputs[{n}]")
            for n, v in enumerate(read_list(outputs, "transaction.outputs", max_items=MAX_LINES))
        )
        signature_list = tuple(
            read_signature(s, f"transaction.signatures[{n}]")
            for n, s in enumerate(read_list(signatures, "transaction.signatures", max_items=MAX_LINES))
        )
        return cls(
            currency=items[2],
            block=BlockRef.from_item(block, "transaction.block"),
            locktime=read_int(locktime, "transaction.locktime"),
            issuers=issuer_keys,
            inputs=input_list,
            unlocks=unlock_list,
            outputs=output_list,
            comment=read_text(
                comment, "transaction.comment", max_length=MAX_COMMENT_LENGTH, pattern=COMMENT_PATTERN
            ),
            signatures=signature_list,
        )

    @classmethod
    def from_bytes(cls, data: bytes, *, currency: str | None = None) -> Self:
        return cls.from_item(decode(data, max_size=cls.MAX_SIZE), currency=currency)

    def signed_by(self, *keypairs: Keypair) -> Self:
        """The transaction signed by `keypairs`, one per issuer and in the issuers' order."""
        keys = tuple(k.public_key for k in keypairs)
        if keys != self.issuers:
            raise ValueError("sign with exactly the issuers' keys, in the issuers' order")
        message = self.signing_message()
        return replace(self, signatures=tuple(k.sign(message) for k in keypairs))
