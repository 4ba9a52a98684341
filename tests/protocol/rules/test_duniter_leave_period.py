"""A leave starts a new msPeriod (BR_G107/G108), as in Duniter.

Duniter's indexer writes a leaver's MINDEX row with `chainable_on = medianTime + msPeriod`, and
BR_G107 counts every MINDEX row of the key with `chainable_on > HEAD~1.medianTime`: a LEAVE is a
membership write like a JOIN or an ACTIVE, so a renewal within msPeriod of a leave is refused
(rules.md §3, Leaver row). The mempool says when it may pass, and the forger leaves it out until then.
"""

import pytest

from protocol.documents import Membership, MembershipType
from protocol.errors import RuleViolation
from protocol.forge import build_block, prove, required_difficulty
from protocol.rules.pending import check_pending
from protocol.rules.waiting import classify
from tests.protocol.chain_builder import Chain
from tests.protocol.rules.helpers import rejected

DAY = 86400


@pytest.fixture
def left() -> Chain:
    """alice, bob, carol and dave; dave left in the head block, one msPeriod after block 0."""
    chain = Chain(founders=4)
    chain.advance(chain.params.ms_period + 10)
    chain.write(leavers=[chain.membership("dave", MembershipType.OUT)])
    return chain


def forge(chain: Chain, pending: list[Membership]) -> None:
    head = chain.state.head()
    assert head is not None
    block = build_block(chain.state, pending, chain.key("alice"), head.median_time + 10)
    nonce = prove(block, required_difficulty(chain.state, block))
    assert nonce is not None
    chain.add(block.signed(chain.keys["alice"], nonce))


def test_leave_starts_a_new_ms_period(left: Chain) -> None:
    record = left.state.membership(left.key("dave"))
    assert record is not None and record.leaving
    assert record.chainable_on == left.blocks[-1].median_time + left.params.ms_period


def test_renewal_within_ms_period_of_a_leave_is_refused(left: Chain) -> None:
    left.advance(left.params.ms_period // 2)
    rejected(left, "BR_G108", "next membership", actives=[left.membership("dave")])


def test_renewal_after_ms_period_of_a_leave_is_accepted(left: Chain) -> None:
    left.advance(left.params.ms_period + 10)
    left.write(actives=[left.membership("dave")])
    record = left.state.membership(left.key("dave"))
    assert record is not None and not record.leaving


def test_pending_renewal_after_a_leave_waits_until_its_ms_period(left: Chain) -> None:
    left_at = left.blocks[-1].median_time
    renewal = left.membership("dave")
    with pytest.raises(RuleViolation) as caught:
        check_pending(left.state, renewal)
    found = classify(left.state, renewal, caught.value)
    assert found is not None and found.code == "BR_G108"
    assert found.until == left_at + left.params.ms_period
    left.advance(left.params.ms_period)
    check_pending(left.state, renewal)  # the head reached `until`: it passes


def test_forger_leaves_out_a_renewal_within_ms_period_of_a_leave(left: Chain) -> None:
    left.write()
    renewal = left.membership("dave")  # references a block after the leave's (BR_G75)
    forge(left, [renewal])
    assert not left.blocks[-1].actives  # within msPeriod of the leave: the block stays valid
    left.advance(left.params.ms_period)
    forge(left, [renewal])
    assert left.blocks[-1].actives == (renewal,)


def test_forger_given_a_leave_and_a_renewal_writes_one() -> None:
    chain = Chain(founders=4)
    chain.advance(chain.params.ms_period + 10)
    leave, renewal = chain.membership("dave", MembershipType.OUT), chain.membership("dave")
    forge(chain, [leave, renewal])
    written = chain.blocks[-1]
    assert len(written.leavers) + len(written.actives) == 1  # one membership per key and block
    chain.write()
    forge(chain, [chain.membership("dave"), chain.membership("dave", MembershipType.OUT)])
    assert chain.blocks[-1].leavers == chain.blocks[-1].actives == ()  # the msPeriod of the first
