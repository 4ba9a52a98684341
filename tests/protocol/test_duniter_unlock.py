"""A SIG proof of an issuer the condition does not name (issue 14 item 3; rules.md §8.3).

Duniter's `grammar.ts` / `txunlock.ts` count a `SIG(i)` proof as successful whenever issuer i's
signature verifies, whatever the condition names: it then satisfies no `SIG(…)` of the condition,
but it does not make the unlock fail. June used to refuse such an unlock.
"""

from typing import Any

import pytest

from protocol.conditions import sig_condition
from protocol.crypto import sha256
from protocol.documents import BlockRef, DividendSource, Input, Output, SigProof, Transaction, XhxProof
from protocol.keys import Keypair, pubkey_to_base58
from protocol.unlock import UnlockError, check_unlock, xhx_hash

REF = BlockRef(1, sha256(b"1"))


def spending(signers: list[Keypair], proofs: tuple[Any, ...]) -> Transaction:
    tx = Transaction(
        currency="june-test",
        block=REF,
        locktime=0,
        issuers=tuple(k.public_key for k in signers),
        inputs=(Input(100, 0, DividendSource(signers[0].public_key, 1)),),
        unlocks=(proofs,),
        outputs=(Output(100, 0, sig_condition(signers[0].public_key)),),
    )
    return tx.signed_by(*signers)


def test_grammar_sig_of_unnamed_issuer_with_xhx_unlocks(keys: list[Keypair]) -> None:
    """`SIG(k1) || XHX(Ha)` with proofs SIG(0) (issuer k2) and XHX(a): unlocked."""
    k1, k2 = keys[0], keys[1]
    condition = f"SIG({pubkey_to_base58(k1.public_key)}) || XHX({xhx_hash('a')})"
    check_unlock(condition, spending([k2], (SigProof(0), XhxProof("a"))), 0, median_time=0, written_time=0)


def test_grammar_sig_of_unnamed_issuer_alone_does_not_unlock(keys: list[Keypair]) -> None:
    """The valid-proof counterpart: SIG(0) of k2 alone satisfies nothing in `SIG(k1) || XHX(Ha)`."""
    k1, k2 = keys[0], keys[1]
    condition = f"SIG({pubkey_to_base58(k1.public_key)}) || XHX({xhx_hash('a')})"
    with pytest.raises(UnlockError, match="do not satisfy"):
        check_unlock(condition, spending([k2], (SigProof(0),)), 0, median_time=0, written_time=0)


def test_grammar_wrong_password_still_fails_the_unlock(keys: list[Keypair]) -> None:
    """An XHX proof is not like a SIG proof: a password whose hash the condition lacks fails."""
    k1, k2 = keys[0], keys[1]
    condition = f"SIG({pubkey_to_base58(k1.public_key)}) || XHX({xhx_hash('a')})"
    with pytest.raises(UnlockError, match="hash is not in the condition"):
        check_unlock(
            condition, spending([k2], (SigProof(0), XhxProof("b"))), 0, median_time=0, written_time=0
        )


def test_grammar_extra_cosigner_on_a_sig_condition_unlocks(keys: list[Keypair]) -> None:
    """`SIG(k1) || XHX(Ha)` spent by k1 and k2 both proving: the unnamed co-signer's proof is harmless.

    The proofs must still be at most as many as the functions, and each must name an issuer.
    """
    k1, k2 = keys[0], keys[1]
    condition = f"SIG({pubkey_to_base58(k1.public_key)}) || XHX({xhx_hash('a')})"
    check_unlock(condition, spending([k1, k2], (SigProof(0), SigProof(1))), 0, median_time=0, written_time=0)
    with pytest.raises(UnlockError, match="names no issuer"):
        check_unlock(condition, spending([k1], (SigProof(0), SigProof(2))), 0, median_time=0, written_time=0)
    with pytest.raises(UnlockError, match="3 proofs for a condition of 2 functions"):
        tx = spending([k1, k2], (SigProof(0), SigProof(1), XhxProof("a")))
        check_unlock(condition, tx, 0, median_time=0, written_time=0)
