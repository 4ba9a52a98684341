"""A valid chain passes; each chain broken in one place fails with the rule a node would name,
at the right height, and the auditor stops there (or, with --keep-going, lists everything)."""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from node.audit.replay import BLOCK_ENCODING
from protocol.conditions import sig_condition
from protocol.crypto import Hash
from protocol.documents import Block, Certification, Identity, Output
from protocol.errors import RuleViolation
from protocol.forge import required_difficulty
from protocol.rules.block import validate_block
from protocol.rules.production import is_hash_valid
from tests.node.audit.helpers import DAY, audit_blocks, fork, join, resigned
from tests.protocol.chain_builder import CURRENCY, Chain


def test_an_honest_chain_passes_with_its_figures(tmp_path: Path, history: Chain) -> None:
    report = audit_blocks(tmp_path, history.blocks)
    assert report.valid and report.verdict == "valid"
    assert report.violations == []
    assert report.blocks_read == report.replayed == len(history.blocks)
    head = history.state.head()
    assert head is not None
    assert report.head_height == history.blocks[-1].number
    assert report.state_digest == history.blocks[-1].state_digest == history.state.state_digest()
    assert report.members == 5 and report.members_peak == 5
    assert [(p.height, p.members) for p in report.members_history] == [(0, 4), (14, 5)]
    assert report.monetary_mass == head.mass
    assert [d.height for d in report.dividends] == [b.number for b in history.blocks if b.dividend]
    assert all(d.amount == 1000 for d in report.dividends)
    assert report.circulating == head.mass  # nothing destroyed: every balance stays above 1 unit
    assert report.totals.transactions == 2 and report.totals.identities == 5
    assert report.totals.certifications == 15 and report.totals.renewals == 1
    # Block signatures, 4 + 1 identities, 4 + 1 joiners, 1 renewal, 15 certifications, 2 transactions.
    assert report.signatures == len(history.blocks) + 5 + 5 + 1 + 15 + 2


def _next_dividend_block(chain: Chain) -> Block:
    """Write empty blocks, hours apart, until the next one creates a UD; return that one, unwritten."""
    while (block := chain.block(time=chain.blocks[-1].time + 6 * 3600)).dividend is None:
        chain.add(block)
    return block


def _changed_amount(chain: Chain) -> Block:
    """alice pays bob, then the amounts are edited after she signed."""
    tx = chain.pay("alice", {"bob": 100})
    first, change = tx.outputs
    edited = (replace(first, amount=first.amount + 50), replace(change, amount=change.amount - 50))
    return chain.block(transactions=[replace(tx, outputs=edited)])


def _unbalanced(chain: Chain) -> Block:
    tx = chain.pay("alice", {"bob": 100})
    extra = Output(1, 0, sig_condition(chain.key("bob")))
    return chain.block(transactions=[chain.transaction(["alice"], tx.inputs, (*tx.outputs, extra))])


def _double_spend(chain: Chain) -> Block:
    spent = chain.pay("alice", {"bob": 100})
    chain.write(transactions=[spent])
    again = chain.transaction(["alice"], spent.inputs, spent.outputs, comment="again")
    return chain.block(transactions=[again])


def _forged_certification(chain: Chain) -> Block:
    """A certification of frank claimed from alice but signed by mallory."""
    chain.advance(chain.params.sig_period + 1)
    identity = chain.identity("frank")
    honest = chain.cert("alice", "frank")
    forged = replace(honest, signature=chain.keys["mallory"].sign(honest.signing_message()))
    return chain.block(
        identities=[identity],
        joiners=[chain.membership("frank")],
        certifications=[forged, chain.cert("bob", "frank"), chain.cert("carol", "frank")],
    )


def _certification_by_non_member(chain: Chain) -> Block:
    """A certification properly signed, by a key that is no member (nor has an identity)."""
    chain.advance(chain.params.sig_period + 1)
    identity = chain.identity("frank")
    outsider = Certification.create(
        chain.keys["mallory"], CURRENCY, identity.issuer, identity.hash, chain.ref()
    )
    return chain.block(
        identities=[identity],
        joiners=[chain.membership("frank")],
        certifications=[outsider, chain.cert("alice", "frank"), chain.cert("bob", "frank")],
    )


def _forged_identity(chain: Chain) -> Block:
    chain.advance(chain.params.sig_period + 1)
    honest = chain.identity("frank")
    forged: Identity = replace(honest, signature=chain.keys["mallory"].sign(honest.signing_message()))
    return chain.block(
        identities=[forged],
        joiners=[chain.membership("frank")],
        certifications=[chain.cert(c, "frank") for c in ("alice", "bob", "carol")],
    )


def _wrong_dividend(chain: Chain) -> Block:
    block = _next_dividend_block(chain)
    assert block.dividend is not None
    return chain.block(time=block.time, dividend=block.dividend + 1)


def _dividend_not_due(chain: Chain) -> Block:
    return chain.block(dividend=1000)


def _member_not_excluded(chain: Chain) -> Block:
    """frank does not renew her membership; once it expires, a block that keeps him is refused."""
    join(chain, "frank")
    chain.advance(chain.params.ms_validity - 10 * DAY)
    chain.write(actives=[chain.membership(n) for n in ("alice", "bob", "carol", "dave")])
    for _ in range(200):
        if chain.key("frank") in set(chain.state.members_to_kick()):
            break
        head = chain.state.head()
        assert head is not None
        chain.write(time=head.median_time + DAY)
    return chain.block(excluded=[])


def _wrong_state_digest(chain: Chain) -> Block:
    return chain.block(state_digest=Hash(bytes([7]) * 32))


def _bad_proof_of_work(chain: Chain) -> Block:
    """A nonce that misses alice's personal difficulty (she wrote most blocks of the frame)."""
    for other in ("bob", "carol", "dave"):
        chain.write(issuer=other)
    block = chain.block()
    difficulty = required_difficulty(chain.state, block)
    assert difficulty > 0
    nonce = next(n for n in range(10_000) if not is_hash_valid(replace(block, nonce=n).hash, difficulty))
    return block.signed(chain.keys["alice"], nonce)


def _bad_proof_of_work_prefix(chain: Chain) -> Block:
    high = replace(chain.block(), pow_min=32)
    nonce = next(n for n in range(100) if not replace(high, nonce=n).hash.hex().startswith("00"))
    return high.signed(chain.keys["alice"], nonce)


def _block_signed_by_another(chain: Chain) -> Block:
    block = chain.block()
    return replace(block, signature=chain.keys["bob"].sign(block.signing_message()))


def _issuer_not_member(chain: Chain) -> Block:
    return chain.block(issuer="mallory")


def _wrong_members_count(chain: Chain) -> Block:
    head = chain.state.head()
    assert head is not None
    return chain.block(members_count=head.members_count + 1)


def _wrong_previous_hash(chain: Chain) -> Block:
    return resigned(chain, chain.block(), previous_hash=Hash(bytes(32)))


def _wrong_median_time(chain: Chain) -> Block:
    block = chain.block()
    return resigned(chain, block, median_time=block.median_time + 1, time=block.time + 1)


CASES: dict[str, tuple[Callable[[Chain], Block], str]] = {
    "changed amount": (_changed_amount, "checkTxSignature"),
    "outputs exceed inputs": (_unbalanced, "checkTxAmounts"),
    "double spend": (_double_spend, "BR_G87"),
    "forged certification": (_forged_certification, "checkCertificationsSignature"),
    "certification by a non-member": (_certification_by_non_member, "BR_G68"),
    "forged identity": (_forged_identity, "checkIdentitiesSignature"),
    "wrong UD": (_wrong_dividend, "BR_G58"),
    "UD not due": (_dividend_not_due, "BR_G58"),
    "member not excluded": (_member_not_excluded, "BR_G86"),
    "wrong state digest": (_wrong_state_digest, "BR_STATE_DIGEST"),
    "bad proof of work": (_bad_proof_of_work, "BR_G62"),
    "bad proof-of-work prefix": (_bad_proof_of_work_prefix, "checkProofOfWork"),
    "block signed by another key": (_block_signed_by_another, "checkBlockSignature"),
    "issuer not a member": (_issuer_not_member, "BR_G101"),
    "wrong members count": (_wrong_members_count, "BR_G60"),
    "wrong previous hash": (_wrong_previous_hash, "BR_G02"),
    "wrong median time": (_wrong_median_time, "BR_G57"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_block_is_found_with_its_rule_and_height(
    tmp_path: Path, history: Chain, case: str
) -> None:
    build, code = CASES[case]
    chain = fork(history)
    bad = build(chain)
    height = len(chain.blocks)
    # The rule a node names for this block, on the state before it:
    with pytest.raises(RuleViolation) as refused:
        validate_block(chain.state, bad)
    assert refused.value.code == code
    honest_tail = fork(chain)
    honest_tail.write()
    report = audit_blocks(tmp_path, [*chain.blocks, bad, *honest_tail.blocks[height:]])
    assert report.verdict == "invalid" and not report.valid
    assert [(v.height, v.code) for v in report.violations] == [(height, code)]
    assert report.violations[0].reason == refused.value.reason
    assert report.blocks_read == height + 1, "the audit stops at the first violation"
    assert report.replayed == height and report.head_height == height - 1


def test_undecodable_bytes_are_a_violation_at_their_height(tmp_path: Path, history: Chain) -> None:
    raws = [b.to_bytes() for b in history.blocks]
    raws[5] = raws[5][:-1] + b"\x00"  # the signature's last byte: still CBOR, but the block...
    raws[7] = b"\xff\x00 not cbor"
    report = audit_blocks(tmp_path, raws, keep_going=True)
    codes = [(v.height, v.code) for v in report.violations]
    assert codes[0] == (5, "checkBlockSignature")
    assert (7, BLOCK_ENCODING) in codes
    assert report.rules_stopped_at == 7
