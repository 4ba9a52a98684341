"""Unlock semantics v10–v12 (rules.md §8.3), with the public condition vectors."""

from typing import Any

import pytest

from protocol.conditions import parse_condition, sig_condition
from protocol.crypto import sha256
from protocol.documents import BlockRef, DividendSource, Input, Output, SigProof, Transaction, XhxProof
from protocol.keys import Keypair, pubkey_to_base58
from protocol.unlock import UnlockError, check_unlock, count_atoms, xhx_hash

CURRENCY = "june-test"
REF = BlockRef(1, sha256(b"1"))


def spending(signers: list[Keypair], proofs: tuple[Any, ...]) -> Transaction:
    tx = Transaction(
        currency=CURRENCY,
        block=REF,
        locktime=0,
        issuers=tuple(k.public_key for k in signers),
        inputs=(Input(100, 0, DividendSource(signers[0].public_key, 1)),),
        unlocks=(proofs,),
        outputs=(Output(100, 0, sig_condition(signers[0].public_key)),),
    )
    return tx.signed_by(*signers)


def test_condition_vectors(vectors: dict[str, Any], keys: list[Keypair]) -> None:
    k1, k2 = keys[0], keys[1]
    for case in vectors["conditions"]:
        text = (
            case["condition"]
            .replace("k1", pubkey_to_base58(k1.public_key))
            .replace("k2", pubkey_to_base58(k2.public_key))
        )
        assert case["proofs"] == "SIG(0) signed by k2"
        tx = spending([k2], (SigProof(0),))
        for sample in case["cases"]:
            median_time = sample["median_time"]
            written = median_time - sample["elapsed_since_source_written"]
            if sample["unlocked"]:
                check_unlock(text, tx, 0, median_time=median_time, written_time=written)
            else:
                with pytest.raises(UnlockError):
                    check_unlock(text, tx, 0, median_time=median_time, written_time=written)


def test_xhx_vector(vectors: dict[str, Any]) -> None:
    for case in vectors["xhx_hashes"]:
        assert xhx_hash(case["password"]) == case["sha256_upper_hex"]


def test_xhx_unlock(keys: list[Keypair]) -> None:
    condition = f"XHX({xhx_hash('sesame')})"
    check_unlock(condition, spending([keys[0]], (XhxProof("sesame"),)), 0, median_time=0, written_time=0)
    with pytest.raises(UnlockError, match="hash is not in the condition"):
        check_unlock(condition, spending([keys[0]], (XhxProof("wrong"),)), 0, median_time=0, written_time=0)


def test_equal_precedence_left_to_right(keys: list[Keypair]) -> None:
    a, b = (pubkey_to_base58(k.public_key) for k in keys[:2])
    condition = f"SIG({a}) || SIG({b}) && CLTV(100)"  # (a || b) && CLTV(100)
    tx = spending([keys[0]], (SigProof(0),))
    with pytest.raises(UnlockError, match="do not satisfy"):
        check_unlock(condition, tx, 0, median_time=99, written_time=0)
    check_unlock(condition, tx, 0, median_time=100, written_time=0)


def test_a_failing_proof_fails_even_if_the_condition_holds(keys: list[Keypair]) -> None:
    a = pubkey_to_base58(keys[0].public_key)
    tx = spending([keys[0]], (SigProof(0), XhxProof("not named")))
    with pytest.raises(UnlockError, match="hash is not in the condition"):
        check_unlock(f"SIG({a}) || CSV(0)", tx, 0, median_time=0, written_time=0)
    # A SIG proof of an issuer the condition does not name is not a failing proof (rules.md §8.3).
    named_or_not = spending([keys[0], keys[1]], (SigProof(0), SigProof(1)))
    check_unlock(f"SIG({a}) || CSV(0)", named_or_not, 0, median_time=0, written_time=0)


def test_too_many_proofs(keys: list[Keypair]) -> None:
    a = pubkey_to_base58(keys[0].public_key)
    tx = spending([keys[0]], (SigProof(0), XhxProof("x")))
    with pytest.raises(UnlockError, match="2 proofs for a condition of 1 functions"):
        check_unlock(f"SIG({a})", tx, 0, median_time=0, written_time=0)


def test_proof_names_a_missing_issuer(keys: list[Keypair]) -> None:
    tx = spending([keys[0]], (SigProof(3),))
    with pytest.raises(UnlockError, match="names no issuer"):
        check_unlock(sig_condition(keys[0].public_key), tx, 0, median_time=0, written_time=0)


def test_count_atoms(keys: list[Keypair]) -> None:
    a = pubkey_to_base58(keys[0].public_key)
    assert count_atoms(parse_condition(f"(SIG({a}) || CSV(1)) && CLTV(2)")) == 3
