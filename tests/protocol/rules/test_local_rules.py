"""Local rules (block only), one test per rule name, each with a valid counterpart (rules.md §7.1)."""

from dataclasses import replace
from typing import Any

import pytest

from protocol.conditions import sig_condition
from protocol.crypto import sha256
from protocol.documents import (
    Block,
    DividendSource,
    Input,
    MembershipType,
    Output,
    SigProof,
    TransactionSource,
)
from protocol.errors import RuleViolation
from protocol.rules.local import check_block_local
from tests.protocol.chain_builder import Chain


def local_violation(block: Block) -> str:
    with pytest.raises(RuleViolation) as caught:
        check_block_local(block, signatures=False, proof_of_work=False)
    return caught.value.code


@pytest.fixture(scope="module")
def chain() -> Chain:
    built = Chain(founders=4)
    built.advance(86400)
    return built


def newcomer(chain: Chain, name: str) -> dict[str, Any]:
    identity = chain.identity(name)
    return {"identities": (identity,), "joiners": (chain.membership(name),)}


def base(chain: Chain) -> Block:
    block = chain.block()
    check_block_local(block)
    return block


def test_structure_rules(chain: Chain) -> None:
    block = base(chain)
    genesis = chain.blocks[0]
    check_block_local(genesis)
    assert local_violation(replace(block, parameters=chain.params)) == "checkParameters"
    assert local_violation(replace(genesis, parameters=None)) == "checkParameters"
    assert local_violation(replace(block, previous_hash=None)) == "checkPreviousHash"
    assert local_violation(replace(block, previous_issuer=None)) == "checkPreviousIssuer"
    assert local_violation(replace(genesis, unit_base=1)) == "checkUnitBase"
    assert local_violation(replace(genesis, dividend=1000)) == "checkDividend"


def test_identity_rules(chain: Chain) -> None:
    block = base(chain)
    eve = newcomer(chain, "eve")
    check_block_local(replace(block, **eve), signatures=False, proof_of_work=False)
    twice = {"identities": eve["identities"] * 2, "joiners": eve["joiners"]}
    assert local_violation(replace(block, **twice)) == "checkIdentitiesUserIDConflict"
    from protocol.documents import Identity

    clone = Identity.create(chain.keys["frank"], "june-test", "eve", chain.ref())
    same_uid = {"identities": (eve["identities"][0], clone), "joiners": eve["joiners"]}
    assert local_violation(replace(block, **same_uid)) == "checkIdentitiesUserIDConflict"
    other = Identity.create(chain.keys["eve"], "june-test", "eve2", chain.ref())
    same_key = {"identities": (eve["identities"][0], other), "joiners": eve["joiners"]}
    assert local_violation(replace(block, **same_key)) == "checkIdentitiesPubkeyConflict"
    assert local_violation(replace(block, identities=eve["identities"])) == "checkIdentitiesMatchJoin"


def test_membership_rules(chain: Chain) -> None:
    block = base(chain)
    leave = chain.membership("dave", MembershipType.OUT)
    renew = chain.membership("dave")
    check_block_local(replace(block, leavers=(leave,)), signatures=False, proof_of_work=False)
    assert local_violation(replace(block, leavers=(renew,))) == "checkMembershipType"
    assert local_violation(replace(block, actives=(leave,))) == "checkMembershipType"
    assert local_violation(replace(block, actives=(renew,), leavers=(leave,))) == "checkMembershipUnicity"
    assert local_violation(replace(block, actives=(renew,), excluded=(renew.issuer,))) == "checkPubkeyUnicity"
    assert local_violation(replace(block, excluded=(renew.issuer, renew.issuer))) == "checkPubkeyUnicity"
    revocation = chain.revocation("dave")
    assert local_violation(replace(block, revocations=(revocation,))) == "checkRevokedAreExcluded"
    assert (
        local_violation(replace(block, revocations=(revocation, revocation), excluded=(revocation.issuer,)))
        == "checkRevokedUnicity"
    )


def test_certification_rules(chain: Chain) -> None:
    block = base(chain)
    cert = chain.cert("alice", "bob")
    check_block_local(replace(block, certifications=(cert,)), signatures=False, proof_of_work=False)
    assert local_violation(replace(block, certifications=(cert, cert))) == "checkCertificationUnicity"
    second = chain.cert("alice", "carol")
    assert local_violation(replace(block, certifications=(cert, second))) == "checkCertificationOneByIssuer"
    genesis = chain.blocks[0]
    assert len({c.issuer for c in genesis.certifications}) < len(genesis.certifications)  # allowed in block 0
    check_block_local(genesis)
    self_cert = chain.cert("bob", "bob")
    assert local_violation(replace(block, certifications=(self_cert,))) == "checkCertificationIsntSelf"
    leaving = replace(block, certifications=(cert,), leavers=(chain.membership("bob", MembershipType.OUT),))
    assert local_violation(leaving) == "checkCertificationIsntForLeaverOrExcluded"
    excluded = replace(block, certifications=(cert,), excluded=(cert.receiver,))
    assert local_violation(excluded) == "checkCertificationIsntForLeaverOrExcluded"


def payment(chain: Chain, **changes: Any) -> Any:
    number = next(b.number for b in chain.blocks if b.dividend)
    key = chain.key("alice")
    tx = chain.transaction(
        ["alice"],
        [Input(1000, 0, DividendSource(key, number))],
        [Output(1000, 0, sig_condition(chain.key("bob")))],
    )
    return replace(tx, **changes)


def test_transaction_rules(chain: Chain) -> None:
    block = base(chain)
    tx = payment(chain)
    check_block_local(replace(block, transactions=(tx,)), signatures=False, proof_of_work=False)
    cases = {
        "checkTxIssuers": [
            payment(chain, issuers=()),
            payment(chain, issuers=(tx.issuers[0],) * 2),
            payment(chain, unlocks=((SigProof(3),),)),
        ],
        "checkTxSources": [
            payment(chain, inputs=(), unlocks=()),
            payment(chain, unlocks=()),
            payment(chain, inputs=tx.inputs * 2, unlocks=tx.unlocks * 2),
            payment(chain, unlocks=((),)),
        ],
        "checkTxRecipients": [
            payment(chain, outputs=()),
            payment(chain, outputs=(Output(1000, 0, "CSV(10)"),)),
        ],
        "checkTxAmounts": [payment(chain, outputs=(Output(999, 0, sig_condition(chain.key("bob"))),))],
        "checkTxLength": [
            payment(chain, outputs=tuple(Output(10, 0, sig_condition(chain.key("bob"))) for _ in range(100)))
        ],
    }
    for code, transactions in cases.items():
        for bad in transactions:
            assert local_violation(replace(block, transactions=(bad,))) == code, (code, bad)


def test_source_created_twice_in_block(chain: Chain) -> None:
    block = base(chain)
    tx = payment(chain)
    assert local_violation(replace(block, transactions=(tx, tx))) == "checkTxSources"
    spend = chain.transaction(
        ["bob"],
        [Input(1000, 0, TransactionSource(sha256(b"elsewhere"), 0))],
        [Output(1000, 0, sig_condition(chain.key("bob")))],
    )
    check_block_local(replace(block, transactions=(tx, spend)), signatures=False, proof_of_work=False)
