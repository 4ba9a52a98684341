"""Implicit revocation: a membership lapsed for msValidity more is revoked (BR_G96), as a chain story.

Ported from Duniter's `test/integration/identity/identity-implicit-revocation.ts`: cat, tac and tic
(alice, bob, carol) found the currency with msValidity 10 s, sigValidity 100 s, sigQty 1 and one
block of median window; cat and tac renew at t + 9 and t + 15, tic never does. Her membership
expires at t + 10 (she is kicked in block 5) and she is revoked implicitly at t + 20, in block 9.

Where June differs on purpose ("Implicit revocation" in docs/rules.md's "June vs Duniter" table):
Duniter keeps the MINDEX row and sets its `revoked_on`; June marks the identity revoked and deletes
its membership. The story checks June's form of the same facts (revoked in block 9, at t + 20).
Duniter's `/wot/lookup` answer (no revocation signature) is an API, not a rule: not ported.
msPeriod is 1 s and sigPeriod 0 here (Duniter's test conf: 0 and 0) so the renewals may chain.
"""

import pytest

from protocol.rules.block import validate_block
from tests.protocol.chain_builder import START, Chain, chain_parameters
from tests.protocol.rules.helpers import rejected


def write(chain: Chain, moment: int, renew: bool = False) -> None:
    actives = [chain.membership("alice"), chain.membership("bob")] if renew else []
    chain.write(time=START + moment, actives=actives)


@pytest.fixture
def chain() -> Chain:
    """Blocks 0…7 of Duniter's story: tic excluded in block 5, not yet revoked."""
    params = chain_parameters(
        sig_validity=100, ms_validity=10, sig_qty=1, median_time_blocks=1, ms_period=1, sig_period=0
    )
    chain = Chain(founders=3, params=params)
    for moment, renew in ((8, False), (9, False), (10, True), (10, False), (11, False), (15, False)):
        write(chain, moment, renew)
    write(chain, 15)
    assert chain.blocks[-1].number == 7
    return chain


def test_identity_implicit_revocation_block_4_should_have_kicked_tic(chain: Chain) -> None:
    """'block#4 should have kicked tic': her membership expires at median time t + 10 (block 4),
    the exclusion is written in block 5; cat and tac, who renewed, stay."""
    assert [b.number for b in chain.blocks if b.excluded] == [5]
    assert chain.blocks[5].excluded == (chain.key("carol"),)
    assert chain.blocks[4].median_time == START + 10
    assert set(chain.state.members()) == {chain.key("alice"), chain.key("bob")}
    identity = chain.state.identity(chain.key("carol"))
    assert identity is not None and identity.revoked_on is None  # excluded, not revoked


def test_identity_implicit_revocation_should_exist_implicit_revocation_traces(chain: Chain) -> None:
    """'should exist implicit revocation traces' (revoked_on '9-…', revoked at 1480000020): the
    block whose median time reaches t + 2·msValidity revokes her, with no revocation document."""
    write(chain, 20, renew=True)
    write(chain, 20)
    block = chain.blocks[-1]
    assert block.number == 9 and block.median_time == START + 20 and block.revocations == ()
    identity = chain.state.identity(chain.key("carol"))
    assert identity is not None and identity.revoked_on == 9
    assert chain.state.membership(chain.key("carol")) is None  # June's form: the row is gone
    for name in ("alice", "bob"):  # the members who renewed are untouched
        identity = chain.state.identity(chain.key(name))
        assert identity is not None and identity.member and identity.revoked_on is None


def test_identity_implicit_revocation_no_comeback_once_revoked(chain: Chain) -> None:
    """The consequence, valid counterpart first: before t + 20 tic may still come back with a JOIN
    (cat's and tac's certifications to her are still live); once implicitly revoked, she cannot."""
    renewals = [chain.membership("alice"), chain.membership("bob")]
    comeback = chain.block(time=START + 20, actives=renewals, joiners=[chain.membership("carol")])
    assert comeback.median_time == START + 15
    validate_block(chain.state, comeback)
    write(chain, 20, renew=True)
    write(chain, 20)
    rejected(
        chain,
        "BR_G77",
        "revoked",
        time=START + 20,
        joiners=[chain.membership("carol")],
    )
