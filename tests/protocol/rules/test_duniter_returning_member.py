"""An excluded member comes back with fresh certifications in the block of its JOIN (BR_G69).

Ported from Duniter's `test/integration/fork-resolution/coming-back-with-less-than-sigqty.ts`:
cat, tac and toc found the currency (here alice, bob and carol) with sigQty 2. Their founding
certifications expire; alice and bob certify each other again, carol gets only alice's, so she is
excluded for lack of certifications. She comes back in one block holding her JOIN and two
certifications, one a renewal of alice's still live one. With alice's alone she is refused
(BR_G79, unique issuers) and a forger leaves her JOIN out (Duniter #1402); the same certifications
without the JOIN are refused, since she is not a member (BR_G69).

rules.md §5.2: a returning member is a newcomer of its block, like a new identity.
"""

import pytest

from protocol.documents import Certification, MembershipType
from protocol.forge import build_block, prove, required_difficulty
from tests.protocol.chain_builder import Chain, chain_parameters
from tests.protocol.rules.helpers import rejected

DAY = 86400


@pytest.fixture
def excluded() -> Chain:
    return excluded_chain()


def excluded_chain() -> Chain:
    """alice, bob and carol, with carol just excluded for lack of certifications."""
    chain = Chain(founders=3, params=chain_parameters(sig_qty=2, sig_validity=10 * DAY))
    chain.advance(5 * DAY)
    for issuer, receiver in (("bob", "alice"), ("carol", "bob"), ("alice", "carol")):
        chain.write(certifications=[chain.cert(issuer, receiver)])
    chain.advance(chain.params.sig_period + 1)
    for issuer, receiver in (("carol", "alice"), ("alice", "bob")):
        chain.write(certifications=[chain.cert(issuer, receiver)])
    head = chain.state.head()
    assert head is not None
    while chain.key("carol") not in set(chain.state.members_to_kick()):
        head = chain.state.head()
        assert head is not None and head.median_time < 11 * DAY + chain.blocks[0].median_time
        chain.write(time=head.median_time + DAY // 4)
    chain.write()  # excludes carol
    identity = chain.state.identity(chain.key("carol"))
    assert identity is not None and not identity.member
    assert list(chain.state.certifiers_of(chain.key("carol"))) == [chain.key("alice")]
    return chain


def fresh(chain: Chain) -> tuple[Certification, Certification]:
    """alice's renewal (a replay of her live certification) and bob's new one, both to carol."""
    return chain.cert("alice", "carol"), chain.cert("bob", "carol")


def test_coming_back_with_less_than_sigqty_needs_its_fresh_certifications(excluded: Chain) -> None:
    renewal, second = fresh(excluded)
    # With alice's renewal only, carol has one certifier: refused.
    rejected(
        excluded,
        "BR_G79",
        "1 certifications, 2 are needed",
        joiners=[excluded.membership("carol")],
        certifications=[renewal],
    )
    # With bob's too, she is welcome back: both certifications go in her JOIN's block.
    excluded.write(joiners=[excluded.membership("carol")], certifications=[renewal, second])
    head = excluded.state.head()
    assert head is not None and head.members_count == 3
    identity = excluded.state.identity(excluded.key("carol"))
    assert identity is not None and identity.member
    assert set(excluded.state.certifiers_of(excluded.key("carol"))) == {
        excluded.key("alice"),
        excluded.key("bob"),
    }


def test_coming_back_certifications_without_the_join_are_refused(excluded: Chain) -> None:
    renewal, second = fresh(excluded)
    rejected(excluded, "BR_G69", "neither a member nor a newcomer", certifications=[second])
    rejected(excluded, "BR_G69", "neither a member nor a newcomer", certifications=[renewal, second])


def test_coming_back_after_a_leave_clears_it() -> None:
    """A member who left and was then excluded also comes back with fresh certifications: her JOIN
    clears the leave, so BR_G70 does not hold against the certifications of that block."""
    chain = Chain(founders=4, params=chain_parameters(ms_validity=20 * DAY, sig_validity=400 * DAY))
    chain.advance(chain.params.ms_period + 10)
    chain.write(leavers=[chain.membership("dave", MembershipType.OUT)])
    while chain.key("dave") in set(chain.state.members()):  # the others renew, dave is excluded
        chain.advance(5 * DAY)
        chain.write(actives=[chain.membership(n) for n in ("alice", "bob", "carol")])
    record = chain.state.membership(chain.key("dave"))
    assert record is not None and record.leaving
    replays = [chain.cert(n, "dave") for n in ("alice", "bob", "carol")]
    rejected(chain, "BR_G69", certifications=replays)
    chain.write(joiners=[chain.membership("dave")], certifications=replays)
    record = chain.state.membership(chain.key("dave"))
    assert record is not None and not record.leaving


def test_forger_leaves_out_a_returning_member_short_of_certifications(excluded: Chain) -> None:
    """Duniter #1402: a forged block does not hold a JOIN without its quorum (nor its certification);
    with the quorum pending, the JOIN and both certifications go in."""
    renewal, second = fresh(excluded)
    join = excluded.membership("carol")
    head = excluded.state.head()
    assert head is not None
    short = build_block(excluded.state, [renewal, join], excluded.key("alice"), head.median_time + 10)
    assert short.joiners == () and short.certifications == ()
    block = build_block(excluded.state, [renewal, second, join], excluded.key("alice"), head.median_time + 10)
    assert block.joiners == (join,)
    assert set(block.certifications) == {renewal, second}
    nonce = prove(block, required_difficulty(excluded.state, block))
    assert nonce is not None
    excluded.add(block.signed(excluded.keys["alice"], nonce))
    assert excluded.key("carol") in set(excluded.state.members())
