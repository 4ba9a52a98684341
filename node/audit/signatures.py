"""Every signature of a chain, checked in batches by worker processes.

Replay is meant to cost what its signatures cost, so the replaying process does no signature work
at all: it hands each batch of raw blocks to a pool of processes and reads back, per block, how
many signatures were checked and which failed. A worker does not build June's document objects;
it decodes the block's CBOR with cbor2 and rebuilds each signed message from the decoded items, by
the layout of protocol/documents (a signed document is `[kind, version, currency, …, signature]`
and signs everything before its signature; a block signs its proof-of-work hash). This is sound
because the replay decodes the same bytes strictly (a block that is not canonical CBOR of the right
schema is refused there whatever the workers say) and compares the block hash a worker computed
from the raw items with the hash of its decoded block: the documents are nested in what the hash
covers, so equal hashes mean every rebuilt message is the one the protocol's objects sign.
tests/node/audit pins the equivalence with `check_block_signatures`.
"""

import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import cbor2

from protocol.crypto import sha256, signing_message, verify
from protocol.documents.base import VERSION, Kind
from protocol.documents.block import FIELD_COUNT, proof_hash
from protocol.encoding import encode

# Positions in an encoded block (protocol/documents/block.py): the unsigned fields are the first
# 26 items, then the nonce and the signature.
_CURRENCY = 2
_ISSUER = 13
_IDENTITIES = 18
_JOINERS, _ACTIVES, _LEAVERS = 19, 20, 21
_REVOCATIONS = 22
_CERTIFICATIONS = 24
_TRANSACTIONS = 25
_NONCE = 26
_SIGNATURE = 27
# In a signed document, the issuer follows the envelope; a transaction lists its issuers there.
_DOCUMENT_ISSUER = 3
_TX_ISSUERS = 5

#: What bytes that are not a block can raise while a worker rebuilds their messages (cbor2 caps
#: nesting depth with a `CBORDecodeError`).
_NOT_A_BLOCK = (cbor2.CBORError, ValueError, TypeError, AttributeError, LookupError, ArithmeticError)

BLOCK_SIGNATURE = "checkBlockSignature"
IDENTITY_SIGNATURE = "checkIdentitiesSignature"
MEMBERSHIP_SIGNATURE = "checkMembershipsSignature"
REVOCATION_SIGNATURE = "checkRevocationsSignature"
CERTIFICATION_SIGNATURE = "checkCertificationsSignature"
TRANSACTION_SIGNATURE = "checkTxSignature"


@dataclass(frozen=True, slots=True)
class SignatureFailure:
    """A signature that does not verify: its rule code and the document's position in its list
    (memberships count joiners, then actives, then leavers, as `check_block_signatures` does)."""

    code: str
    position: int


@dataclass(frozen=True, slots=True)
class BlockSignatures:
    """The signatures of one block: how many were checked, which failed, in the protocol's order.

    `block_hash` is the hash the worker computed from the raw items: the replay compares it with
    the hash of the block it decoded, which proves that every signed message the worker rebuilt is
    the one the protocol's objects would sign. It is empty when the bytes are not a block at all;
    the replay then reports the decoding error, which comes first.
    """

    checked: int
    failures: tuple[SignatureFailure, ...]
    block_hash: bytes = b""

    @property
    def readable(self) -> bool:
        return bool(self.block_hash)


def check_block(raw: bytes) -> BlockSignatures:
    """Every signature of one encoded block, in the order of `check_block_signatures`."""
    try:
        items = cbor2.loads(raw)
        return _check_items(items)
    except _NOT_A_BLOCK:
        return BlockSignatures(0, ())


def check_batch(raws: Sequence[bytes]) -> list[BlockSignatures]:
    """A worker's job: the signatures of a run of consecutive blocks."""
    return [check_block(raw) for raw in raws]


def _check_items(items: Any) -> BlockSignatures:
    if not isinstance(items, list) or len(items) != FIELD_COUNT:
        return BlockSignatures(0, ())
    currency = items[_CURRENCY]
    failures: list[SignatureFailure] = []
    block_hash = proof_hash(sha256(encode(items[:_NONCE])), items[_NONCE])
    message = signing_message(currency, "block", VERSION, block_hash)
    checked = 1
    if not verify(items[_ISSUER], message, items[_SIGNATURE]):
        failures.append(SignatureFailure(BLOCK_SIGNATURE, 0))
    groups = (
        (IDENTITY_SIGNATURE, items[_IDENTITIES]),
        (MEMBERSHIP_SIGNATURE, [*items[_JOINERS], *items[_ACTIVES], *items[_LEAVERS]]),
        (REVOCATION_SIGNATURE, items[_REVOCATIONS]),
        (CERTIFICATION_SIGNATURE, items[_CERTIFICATIONS]),
    )
    for code, documents in groups:
        for position, document in enumerate(documents):
            checked += 1
            if not verify(document[_DOCUMENT_ISSUER], _document_message(document), document[-1]):
                failures.append(SignatureFailure(code, position))
    for position, tx in enumerate(items[_TRANSACTIONS]):
        issuers, signatures = tx[_TX_ISSUERS], tx[-1]
        message = _document_message(tx)
        valid = len(issuers) == len(signatures)
        for key, signature in zip(issuers, signatures, strict=False):
            checked += 1
            valid = verify(key, message, signature) and valid
        if not valid:
            failures.append(SignatureFailure(TRANSACTION_SIGNATURE, position))
    return BlockSignatures(checked, tuple(failures), block_hash)


def _document_message(document: list[Any]) -> bytes:
    """What a document's issuers signed: its canonical bytes without the signature, domain-separated."""
    kind = Kind(document[0]).name.lower()
    return signing_message(document[2], kind, document[1], encode(document[:-1]))


class SignatureChecker:
    """A pool of worker processes checking batches of blocks; `workers=0` checks in this process.

    Workers are started with `spawn`, never `fork`: the auditor runs a progress thread, and a
    forked child could inherit one of its locks held.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = (
            ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) if workers > 0 else None
        )

    def submit(self, raws: Sequence[bytes]) -> "Future[list[BlockSignatures]]":
        if self._pool is not None:
            return self._pool.submit(check_batch, list(raws))
        done: Future[list[BlockSignatures]] = Future()
        done.set_result(check_batch(raws))
        return done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "SignatureChecker":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """One worker per core but one, which the replay itself keeps busy (none on a single core,
    where a worker would only add the cost of passing blocks around)."""
    return usable_cores() - 1
