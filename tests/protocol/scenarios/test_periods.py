"""Membership and certification periods (msPeriod, sigPeriod), as chain stories.

Ported from Duniter's `test/integration/membership_chainability.ts` ("after July 2017": msPeriod
20 s, sigQty 1, one block of median window) and `test/integration/certification/
certification_chainability.ts` (sigPeriod 200 s, sigQty 1). Both rules compare the chainable date
with the *previous* block's median time (Duniter's `HEAD~1.medianTime`), so the block that brings
the median time to the date is not yet the one that may hold the document: the next one is.

Not ported: membership_chainability.ts "before July 2017" (Duniter skips the chaining rule for
blocks before median time 1498860000 on Ğ1): June chains memberships from block 0, a documented
choice ("Membership chaining" in docs/rules.md's "June vs Duniter" table). The HTTP answers of
certification_chainability.ts (certifications per block 0…6) become the block rule (BR_G67) and what
the forger leaves out.
"""

import pytest

from protocol.documents import Block
from protocol.documents.pending import PendingDocument as Document
from protocol.forge import build_block, prove, required_difficulty
from tests.protocol.chain_builder import START, Chain, chain_parameters
from tests.protocol.rules.helpers import rejected


def forged(chain: Chain, pending: list[Document], time: int) -> Block:
    """What alice's node forges from `pending` at `time`, proved and signed, not yet added."""
    block = build_block(chain.state, pending, chain.key("alice"), time)
    nonce = prove(block, required_difficulty(chain.state, block))
    assert nonce is not None
    return block.signed(chain.keys["alice"], nonce)


@pytest.fixture
def ms_chain() -> Chain:
    """cat and tac (alice, bob) founded at T with msPeriod 20; block 1 at T + 20 (median T)."""
    chain = Chain(founders=2, params=chain_parameters(ms_period=20, sig_qty=1, median_time_blocks=1))
    chain.write(time=START + 20)
    return chain


def test_membership_chainability_should_refuse_a_block_with_a_too_early_membership_in_it(
    ms_chain: Chain,
) -> None:
    """'should refuse a block with a too early membership in it' (ruleMembershipPeriod): block 2
    has median time T + 20, but its predecessor's is T, before alice's chainable date T + 20."""
    record = ms_chain.state.membership(ms_chain.key("alice"))
    assert record is not None and record.chainable_on == START + 20
    rejected(ms_chain, "BR_G108", "next membership", time=START + 20, actives=[ms_chain.membership("alice")])


def test_membership_chainability_should_not_be_able_to_renew_immediately(ms_chain: Chain) -> None:
    """'should not be able to renew immediately': the forger leaves the renewal out of block 2."""
    block = forged(ms_chain, [ms_chain.membership("alice")], START + 20)
    assert block.number == 2 and block.actives == () and block.joiners == ()
    ms_chain.add(block)


def test_membership_chainability_should_be_able_to_renew_after_20_sec(ms_chain: Chain) -> None:
    """'should be able to renew after 20 sec': block 3, whose predecessor's median time is T + 20."""
    ms_chain.write(time=START + 20)
    renewal = ms_chain.membership("alice")
    block = forged(ms_chain, [renewal], START + 20)
    assert block.number == 3 and block.actives == (renewal,)
    ms_chain.add(block)
    record = ms_chain.state.membership(ms_chain.key("alice"))
    assert record is not None and record.chainable_on == START + 40


@pytest.fixture
def sig_chain() -> Chain:
    """cat and tac (alice, bob) founded at T with sigPeriod 200: alice may certify from T + 200."""
    chain = Chain(founders=2, params=chain_parameters(sig_period=200, sig_qty=1, median_time_blocks=1))
    return chain


def tic_joins(chain: Chain) -> list[Document]:
    """tic (carol) asks to join with cat's (alice's) certification."""
    identity = chain.identity("carol")
    return [identity, chain.membership("carol"), chain.cert("alice", "carol")]


def test_certification_chainability_blocks_1_to_5_should_have_0_certs(sig_chain: Chain) -> None:
    """'block 1 … 5 should have 0 certs': before T + 200, alice's certification waits."""
    sig_chain.write(time=START + 199)  # median T + 199 from the next block on
    for _ in range(3):
        block = forged(sig_chain, tic_joins(sig_chain), START + 199)
        assert block.certifications == () and block.joiners == ()
        sig_chain.add(block)
    identity, join, cert = tic_joins(sig_chain)
    rejected(
        sig_chain,
        "BR_G67",
        "may certify again at median time",
        time=START + 199,
        identities=[identity],
        joiners=[join],
        certifications=[cert],
    )


def test_certification_chainability_block_6_should_have_1_cert(sig_chain: Chain) -> None:
    """'block 6 should have 1 certs': once the previous median time reached T + 200 (the
    certPeriod must be over or equal to the current time), the certification and tic's JOIN go in."""
    sig_chain.write(time=START + 200)  # the next block's median time is T + 200
    sig_chain.write(time=START + 200)  # and the one after that is the first to see it as previous
    pending = tic_joins(sig_chain)
    block = forged(sig_chain, pending, START + 300)
    assert block.certifications == (pending[2],) and block.joiners == (pending[1],)
    sig_chain.add(block)
    assert sig_chain.key("carol") in set(sig_chain.state.members())
    record = sig_chain.state.certification(sig_chain.key("alice"), sig_chain.key("carol"))
    assert record is not None and record.chainable_on == START + 200 + 200
