"""Exclusion and return, as chain stories.

Ported from Duniter's `test/integration/identity/identity-kicking-by-certs.ts` (sigValidity 5 s,
sigQty 2: the founders' certifications expire, the two founders nobody certified again are kicked
in block 7, a revoked founder in block 8, and a block leaving the revoked key out of Excluded is
refused, 'ruleToBeKickedArePresent') and `test/integration/fork-resolution/
block-with-comebacker-revert.ts` (a member excluded for lack of certifications comes back in a
block with a renewal; the block is reverted and applied again) and
`test/integration/certification/certifier-is-member.ts` (tic may certify only while a member: not
before nor in the block of her JOIN, nor once excluded for an expired membership in block 7, and
again once she joined back). cat, tac, toc, tic, tuc are alice,
bob, carol, dave, eve here; one block of median window, so a block's median time is its
predecessor's time.

Not ported as written:
- block-with-comebacker-revert.ts is `describe.skip` in Duniter, and its comeback block holds one
  certification for sigQty 2, which Duniter's live test coming-back-with-less-than-sigqty.ts (ported
  in tests/protocol/rules/test_duniter_returning_member.py) refuses. The story here brings two
  certifications, the renewal Duniter wanted to observe and a fresh one.
- The Excluded list: June requires the kick list plus the keys revoked in the block ("Excluded
  list" in docs/rules.md's "June vs Duniter" table); the refused block is refused in both.
- Duniter's revert goes through its fork resolution and pool; June's is the state's `revert` of
  the block's delta, which must give back the state (and its digest) from before the block.
"""

from collections.abc import Iterable

import pytest

from protocol.crypto import PublicKey
from protocol.documents import Membership
from tests.protocol.chain_builder import START, Chain, chain_parameters
from tests.protocol.rules.helpers import rejected


def names(chain: Chain, keys: Iterable[PublicKey]) -> set[str]:
    by_key = {chain.key(n): n for n in chain.keys}
    return {by_key[k] for k in keys}


@pytest.fixture
def kicking() -> Chain:
    """Blocks 0…6 of identity-kicking-by-certs: tic and tuc joined with certifications referring
    to a later block than the founders', and certified cat; at t + 5 the founders' lapse."""
    params = chain_parameters(sig_validity=5, sig_qty=2, sig_period=0, median_time_blocks=1)
    chain = Chain(founders=3, params=params)
    chain.write(time=START + 3)
    chain.write(time=START + 3)
    chain.write(
        time=START + 3,
        identities=[chain.identity("dave")],
        joiners=[chain.membership("dave")],
        certifications=[chain.cert("alice", "dave"), chain.cert("bob", "dave")],
    )
    chain.write(
        time=START + 3,
        identities=[chain.identity("eve")],
        joiners=[chain.membership("eve")],
        certifications=[chain.cert("dave", "alice"), chain.cert("alice", "eve"), chain.cert("bob", "eve")],
    )
    chain.write(time=START + 5, certifications=[chain.cert("eve", "alice")])
    chain.write(time=START + 5)
    assert chain.blocks[-1].number == 6
    return chain


def test_identity_kicking_by_certs_block_7_should_have_kicked_2_members(kicking: Chain) -> None:
    """'block#7 should have kicked 2 member': tac and toc lost every certification at t + 5; cat
    keeps tic's and tuc's. Without the exclusions, block 7 is refused."""
    assert names(kicking, kicking.state.members_to_kick()) == {"bob", "carol"}
    rejected(kicking, "BR_G86", "must be excluded", time=START + 5, excluded=[])
    rejected(kicking, "BR_G86", time=START + 5, excluded=[kicking.key("bob")])
    kicking.write(time=START + 5)
    assert names(kicking, kicking.blocks[7].excluded) == {"bob", "carol"}
    assert names(kicking, kicking.state.members()) == {"alice", "dave", "eve"}


def test_identity_kicking_by_certs_block_8_should_have_kicked_1_member(kicking: Chain) -> None:
    """'block#8 should have kicked 1 member': cat revokes herself; a block holding her revocation
    without her key in Excluded is refused (Duniter: ruleToBeKickedArePresent), with it accepted."""
    kicking.write(time=START + 5)
    revocation = kicking.revocation("alice")
    rejected(kicking, "checkRevokedAreExcluded", time=START + 5, revocations=[revocation], excluded=[])
    kicking.write(time=START + 5, revocations=[revocation])
    assert kicking.blocks[8].excluded == (kicking.key("alice"),)
    assert names(kicking, kicking.state.members()) == {"dave", "eve"}
    identity = kicking.state.identity(kicking.key("alice"))
    assert identity is not None and identity.revoked_on == 8


@pytest.fixture
def comebacker() -> Chain:
    """block-with-comebacker-revert up to t = 12: cat, tac and toc with sigQty 2, sigValidity 10 s;
    at t = 6 cat and tac get two fresh certifications each, toc only cat's; at t = 10 toc is
    left with one certification and is excluded."""
    params = chain_parameters(
        sig_validity=10, sig_qty=2, sig_period=0, sig_replay=0, median_time_blocks=1, ms_period=0
    )
    chain = Chain(founders=3, params=params)
    chain.write(time=START + 5)
    chain.write(time=START + 6)
    chain.write(time=START + 6, certifications=[chain.cert("bob", "alice"), chain.cert("carol", "alice")])
    chain.write(time=START + 6, certifications=[chain.cert("alice", "bob"), chain.cert("carol", "bob")])
    chain.write(time=START + 12, certifications=[chain.cert("alice", "carol")])
    while chain.key("carol") in set(chain.state.members()):
        chain.write(time=START + 12)
    assert chain.blocks[-1].excluded == (chain.key("carol"),)
    for _ in range(10):  # "we want some blocks to trim CINDEX"
        chain.write(time=START + 13)
    return chain


def test_block_with_comebacker_revert_toc_is_excluded_for_lack_of_certifications(comebacker: Chain) -> None:
    """'(t = 12) toc is excluded for lack of certifications': cat's renewal alone keeps one."""
    assert names(comebacker, comebacker.state.members()) == {"alice", "bob"}
    assert names(comebacker, comebacker.state.certifiers_of(comebacker.key("carol"))) == {"alice"}


def test_block_with_comebacker_revert_toc_is_coming_back_then_reverted(comebacker: Chain) -> None:
    """'(t = 13) toc is coming back with 2 certs, whose 1 is a renewal', '(t = 12 #2) revert
    successfully', '(t = 12 #3) resolution should work': the comeback block, its revert to the
    exact former state, and the same block applied again. With the renewal alone: refused."""
    renewal = comebacker.cert("alice", "carol")
    rejected(
        comebacker,
        "BR_G79",
        time=START + 13,
        joiners=[comebacker.membership("carol")],
        certifications=[renewal],
    )
    before = comebacker.state.snapshot(), comebacker.state.state_digest()
    block = comebacker.block(
        time=START + 13,
        joiners=[comebacker.membership("carol")],
        certifications=[renewal, comebacker.cert("bob", "carol")],
    )
    comebacker.add(block)
    assert block.members_count == 3
    after = comebacker.state.snapshot(), comebacker.state.state_digest()
    comebacker.revert()
    assert (comebacker.state.snapshot(), comebacker.state.state_digest()) == before
    head = comebacker.state.head()
    assert head is not None and head.members_count == 2 and head.number == block.number - 1
    comebacker.add(block)
    assert (comebacker.state.snapshot(), comebacker.state.state_digest()) == after
    assert names(comebacker, comebacker.state.members()) == {"alice", "bob", "carol"}


@pytest.fixture
def certifier() -> Chain:
    """certifier-is-member.ts up to block 2: cat and tac with msValidity 10 s, sigQty 1."""
    params = chain_parameters(
        sig_validity=100, ms_validity=10, sig_qty=1, sig_period=0, ms_period=0, median_time_blocks=1
    )
    chain = Chain(founders=2, params=params)
    chain.write(time=START + 8)
    chain.write(time=START + 9)
    return chain


def renewals(chain: Chain) -> list[Membership]:
    return [chain.membership("alice"), chain.membership("bob")]


def test_certifier_is_member_tic_should_not_be_able_to_certify_yet(certifier: Chain) -> None:
    """'tic should not be able to certify yet' (Certifier must be a member), then 'block#3 should
    see tic becoming member': not even in the block of her JOIN; without her certification, in."""
    tic = certifier.identity("dave")
    documents = {
        "identities": [tic],
        "joiners": [certifier.membership("dave")],
        "actives": renewals(certifier),
    }
    cat_to_tic = certifier.cert("alice", "dave")
    rejected(
        certifier,
        "BR_G68",
        "not a member",
        time=START + 16,
        certifications=[cat_to_tic, certifier.cert("dave", "alice")],
        **documents,
    )
    certifier.write(time=START + 16, certifications=[cat_to_tic], **documents)
    assert len(certifier.blocks[3].joiners) == 1
    assert certifier.key("dave") in set(certifier.state.members())


def test_certifier_is_member_tic_excluded_then_back(certifier: Chain) -> None:
    """'tic is now a member, he should be able to certify', 'tic should be excluded' (block 7),
    'tic should not be able to certify as he is no more a member', 'tic should be able to certify
    when he joins back' (a JOIN alone: cat's certification to her is still live)."""
    certifier.write(
        time=START + 16,
        identities=[certifier.identity("dave")],
        joiners=[certifier.membership("dave")],
        actives=renewals(certifier),
        certifications=[certifier.cert("alice", "dave")],
    )
    certifier.write(time=START + 16, certifications=[certifier.cert("dave", "alice")])
    certifier.write(time=START + 21, actives=renewals(certifier))
    certifier.write(time=START + 21)
    certifier.write(time=START + 22)
    assert [b.number for b in certifier.blocks if b.excluded] == [7]
    assert certifier.blocks[7].excluded == (certifier.key("dave"),)
    rejected(
        certifier, "BR_G68", "not a member", time=START + 23, certifications=[certifier.cert("dave", "bob")]
    )
    certifier.write(time=START + 23, joiners=[certifier.membership("dave")])
    assert certifier.key("dave") in set(certifier.state.members())
    certifier.write(time=START + 23, certifications=[certifier.cert("dave", "bob")])
    assert certifier.key("dave") in set(certifier.state.certifiers_of(certifier.key("bob")))
