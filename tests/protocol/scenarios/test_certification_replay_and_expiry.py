"""Certification replay and expiry, as chain stories.

Ported from Duniter's `test/integration/certification/certification-replay.ts` and
`certification-expiry.ts` (sigReplay 3 s, sigPeriod 0, sigValidity 10 s, sigQty 1,
one block of median window, so a block's median time is its predecessor's time, as in Duniter's
"commit twice to move the median time"). cat, tac, toc are alice, bob, carol here.

Differences in setting, not in rules: June's chain builder founds the currency with every founder
certifying every other one (Duniter's expiry test starts from a circle cat → tac → toc → cat), so
the expiry story names the certifications that are replayed and checks which of the rest expire.
Duniter's tests also check the wotb dump and the pool's "Already up-to-date" answer (ucode 1004):
June has no wotb and the pool is not in `protocol/`; the block rule (BR_G71) is checked instead.
"""

import pytest

from tests.protocol.chain_builder import START, Chain, chain_parameters
from tests.protocol.rules.helpers import rejected


def short_certifications(founders: int) -> Chain:
    params = chain_parameters(sig_replay=3, sig_period=0, sig_validity=10, sig_qty=1, median_time_blocks=1)
    return Chain(founders=founders, params=params)


def at(chain: Chain, seconds: int) -> None:
    """Write blocks until the head's median time is START + seconds."""
    while (head := chain.state.head()) is not None and head.median_time < START + seconds:
        chain.write(time=START + seconds)
    assert head is not None and head.median_time == START + seconds


def links(chain: Chain) -> set[tuple[str, str]]:
    names = {chain.key(n): n for n in chain.keys}
    return {(names[i], names[r]) for i, r in chain.state.all_certifications()}


@pytest.fixture
def chain() -> Chain:
    return short_certifications(2)


def test_certification_replay_dates_of_a_new_certification(chain: Chain) -> None:
    """certification-replay.ts, 'should have replayable_on and expires_on': chainable at once,
    replayable after sigReplay, expiring after sigValidity."""
    record = chain.state.certification(chain.key("alice"), chain.key("bob"))
    assert record is not None
    assert (record.chainable_on, record.replayable_on, record.expires_on) == (START, START + 3, START + 10)


def test_certification_replay_refused_before_sig_replay(chain: Chain) -> None:
    """certification-replay.ts, 'should not be able to replay the cert' (Already up-to-date)."""
    rejected(chain, "BR_G71", "renewable at median time", certifications=[chain.cert("alice", "bob")])
    at(chain, 2)
    rejected(chain, "BR_G71", certifications=[chain.cert("alice", "bob")])


def test_certification_replay_accepted_after_sig_replay_moves_its_dates(chain: Chain) -> None:
    """certification-replay.ts, 'should be able to replay the cert after sigReplay' (t + 4): the
    replay's interest is a new expiry date, and its replay date moves too."""
    at(chain, 4)
    chain.write(time=START + 4, certifications=[chain.cert("alice", "bob")])
    record = chain.state.certification(chain.key("alice"), chain.key("bob"))
    assert record is not None
    assert (record.chainable_on, record.replayable_on, record.expires_on) == (
        START + 4,
        START + 4 + 3,
        START + 4 + 10,
    )
    assert links(chain) == {("alice", "bob"), ("bob", "alice")}  # still one link, not two


def test_certification_replay_wot_over_time(chain: Chain) -> None:
    """certification-replay.ts, the wotb steps: toc joins at t + 6 with cat's and tac's
    certifications, certifies cat; cat loses tac's (never replayed) at t + 10; tac loses cat's
    (replayed at t + 4) at t + 14 and, left with none, is kicked."""
    at(chain, 4)
    chain.write(time=START + 4, certifications=[chain.cert("alice", "bob")])
    at(chain, 6)
    carol = chain.identity("carol")
    chain.write(
        time=START + 6,
        identities=[carol],
        joiners=[chain.membership("carol")],
        certifications=[chain.cert("alice", "carol"), chain.cert("bob", "carol")],
    )
    chain.write(time=START + 6, certifications=[chain.cert("carol", "alice")])
    assert links(chain) == {
        ("alice", "bob"),
        ("bob", "alice"),
        ("alice", "carol"),
        ("bob", "carol"),
        ("carol", "alice"),
    }
    at(chain, 10)
    assert ("bob", "alice") not in links(chain)  # cat loses 1 cert
    assert chain.key("alice") in set(chain.state.members())
    at(chain, 13)
    assert chain.key("bob") not in set(chain.state.members_to_kick())
    at(chain, 14)
    assert ("alice", "bob") not in links(chain)
    assert chain.key("bob") in set(chain.state.members_to_kick())
    chain.write(time=START + 14)  # the kick
    assert chain.blocks[-1].excluded == (chain.key("bob"),)
    assert set(chain.state.members()) == {chain.key("alice"), chain.key("carol")}


def test_certification_expiry_only_the_replayed_certifications_survive() -> None:
    """certification-expiry.ts, 'Certification expiry + trimming': replays at t + 4 (tac → toc),
    t + 6 (tac → cat), t + 8 and t + 9 (toc → cat, toc → tac); at t + 10 only the certifications
    that were not replayed go; at t + 14 tac → toc goes, at t + 16 tac → cat goes without bug."""
    chain = short_certifications(3)
    for moment, issuer, receiver in ((4, "bob", "carol"), (6, "bob", "alice"), (8, "carol", "alice")):
        at(chain, moment)
        chain.write(time=START + moment, certifications=[chain.cert(issuer, receiver)])
    at(chain, 9)
    chain.write(time=START + 9, certifications=[chain.cert("carol", "bob")])
    replayed = {("bob", "carol"), ("bob", "alice"), ("carol", "alice"), ("carol", "bob")}
    at(chain, 9)
    assert links(chain) == replayed | {("alice", "bob"), ("alice", "carol")}
    at(chain, 10)
    assert links(chain) == replayed
    assert len(set(chain.state.members())) == 3 and not list(chain.state.members_to_kick())
    at(chain, 14)
    assert links(chain) == replayed - {("bob", "carol")}
    assert set(chain.state.members_to_kick()) == {chain.key("carol")}  # left without certifier
    chain.write(time=START + 14)
    assert chain.blocks[-1].excluded == (chain.key("carol"),)
    at(chain, 16)
    assert links(chain) == {("carol", "alice"), ("carol", "bob")}
    assert chain.key("alice") in set(chain.state.members())
