"""Unlocking a source: do a transaction's proofs satisfy the source's condition? (rules.md §8.3)

v10–v12 semantics: every proof must succeed on its own (a SIG(i) proof names one of the
transaction's issuers, whose signature has been verified; an XHX proof's password hashes to a hash
the condition mentions), there may be no more proofs than functions in the condition, and the
condition must then evaluate true. A SIG proof of an issuer the condition does not name is still a
successful proof: it simply satisfies no SIG(…) of the condition (Duniter `grammar.ts`, rules.md §8.3).
"""

import hashlib
from dataclasses import dataclass

from protocol.conditions import Cltv, Condition, ConditionError, Csv, Operation, Sig, Xhx, parse_condition
from protocol.crypto import PublicKey
from protocol.documents import SigProof, Transaction, XhxProof
from protocol.errors import ProtocolError


class UnlockError(ProtocolError):
    """Proofs that do not unlock a source; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class UnlockContext:
    """What a condition is evaluated against."""

    signers: frozenset[PublicKey]
    xhx_hashes: frozenset[str]
    median_time: int
    written_time: int


def xhx_hash(password: str) -> str:
    """SHA-256 of the password, upper-case hex, as XHX(…) conditions name it."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest().upper()


def count_atoms(condition: Condition) -> int:
    """The number of functions (SIG, XHX, CLTV, CSV) in a condition."""
    if isinstance(condition, Operation):
        return count_atoms(condition.left) + count_atoms(condition.right)
    return 1


def _atoms(condition: Condition) -> list[Condition]:
    if isinstance(condition, Operation):
        return [*_atoms(condition.left), *_atoms(condition.right)]
    return [condition]


def proof_context(tx: Transaction, input_index: int, *, median_time: int, written_time: int) -> UnlockContext:
    """The context the proofs of input `input_index` give; the transaction's signatures must have
    been verified already (a SIG(i) proof only says which issuer's signature to count)."""
    signers: set[PublicKey] = set()
    hashes: set[str] = set()
    for proof in tx.unlocks[input_index]:
        if isinstance(proof, SigProof):
            if proof.issuer_index >= len(tx.issuers):
                raise UnlockError(f"SIG({proof.issuer_index}) names no issuer: there are {len(tx.issuers)}")
            signers.add(tx.issuers[proof.issuer_index])
        else:
            hashes.add(xhx_hash(proof.password))
    return UnlockContext(frozenset(signers), frozenset(hashes), median_time, written_time)


def evaluate_condition(condition: Condition, context: UnlockContext) -> bool:
    """The condition's truth in `context`; && and || as parsed (equal precedence, left to right)."""
    match condition:
        case Sig(key):
            return key in context.signers
        case Xhx(hash_hex):
            return hash_hex in context.xhx_hashes
        case Cltv(time):
            return context.median_time >= time
        case Csv(delay):
            return context.median_time - context.written_time >= delay
        case Operation("&&", left, right):
            return evaluate_condition(left, context) and evaluate_condition(right, context)
        case Operation(_, left, right):
            return evaluate_condition(left, context) or evaluate_condition(right, context)
    raise UnlockError(f"unknown condition {condition!r}")


def check_unlock(
    condition_text: str, tx: Transaction, input_index: int, *, median_time: int, written_time: int
) -> None:
    """Raise `UnlockError` unless input `input_index`'s proofs unlock `condition_text`."""
    try:
        condition = parse_condition(condition_text)
    except ConditionError as exc:
        raise UnlockError(f"the source's condition is unreadable: {exc}") from exc
    proofs = tx.unlocks[input_index]
    # Verify there are no more proofs than functions.
    if len(proofs) > count_atoms(condition):
        raise UnlockError(f"{len(proofs)} proofs for a condition of {count_atoms(condition)} functions")
    context = proof_context(tx, input_index, median_time=median_time, written_time=written_time)
    atoms = _atoms(condition)
    hashes = {a.hash_hex for a in atoms if isinstance(a, Xhx)}
    # Verify every proof succeeds on its own. A SIG proof always does once its index names an issuer
    # (checked by proof_context; the signatures were verified before), named by the condition or not.
    for proof in proofs:
        if isinstance(proof, XhxProof) and xhx_hash(proof.password) not in hashes:
            raise UnlockError(f"{proof}: the password's hash is not in the condition")
    # Verify the condition holds.
    if not evaluate_condition(condition, context):
        raise UnlockError(f"the proofs do not satisfy {condition_text[:120]}")
