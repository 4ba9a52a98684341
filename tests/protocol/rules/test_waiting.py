"""Which refusals of a pending document are "not yet" and which are "never" (protocol.rules.waiting)."""

from collections.abc import Callable
from dataclasses import replace

import pytest

from protocol.conditions import sig_condition
from protocol.crypto import Hash
from protocol.documents import BlockRef, Identity, Input, Output, TransactionSource
from protocol.documents.pending import PendingDocument
from protocol.errors import RuleViolation
from protocol.rules.pending import check_pending
from protocol.rules.waiting import NOT_YET, NotYet, classify, expires
from tests.protocol.chain_builder import CURRENCY, Chain

DAY = 86400


@pytest.fixture
def chain() -> Chain:
    built = Chain(founders=4)
    built.advance(3600)
    return built


def refusal(
    chain: Chain, document: PendingDocument, settled: Callable[[Hash], bool] = lambda _hash: False
) -> NotYet | None:
    with pytest.raises(RuleViolation) as caught:
        check_pending(chain.state, document)
    return classify(chain.state, document, caught.value, settled=settled)


def test_an_early_renewal_is_not_yet_until_its_period(chain: Chain) -> None:
    found = refusal(chain, chain.membership("alice"))
    assert found is not None and found.code == "BR_G108"
    assert found.until == chain.blocks[0].median_time + DAY


def test_a_bad_signature_is_never_whatever_the_rule(chain: Chain) -> None:
    renewal = chain.membership("alice")
    forged = replace(renewal, signature=chain.membership("bob").signature)
    assert refusal(chain, forged) is None


def test_a_reference_too_old_is_never_but_one_beyond_the_head_is_not_yet(chain: Chain) -> None:
    old = chain.ref()
    chain.advance(8 * DAY)  # sigWindow is 7 days
    assert refusal(chain, chain.cert("alice", "bob", ref=old)) is None
    head = chain.blocks[-1]
    ahead = BlockRef(head.number + 3, Hash(bytes(32)))
    found = refusal(chain, chain.cert("alice", "bob", ref=ahead))
    assert found is not None and found.code == "BR_G65"
    assert refusal(chain, chain.cert("alice", "bob", ref=BlockRef(head.number, Hash(bytes(32))))) is None


def test_a_taken_uid_is_never(chain: Chain) -> None:
    taken = Identity.create(chain.keys["eve"], CURRENCY, "alice", chain.ref())
    assert refusal(chain, taken) is None


def test_a_certification_to_an_identity_not_written_yet_waits(chain: Chain) -> None:
    chain.identity("eve")  # made, not written
    found = refusal(chain, chain.cert("alice", "eve"))
    assert found is not None and found.code == "BR_G69"


def test_sources_missing_yet_wait_spent_ones_never(chain: Chain) -> None:
    chain.advance(DAY)  # a dividend
    payment = chain.pay("alice", {"bob": 10})
    child = chain.transaction(
        ["bob"],
        [Input(10, 0, TransactionSource(payment.hash, 0))],
        [Output(10, 0, sig_condition(chain.key("carol")))],
    )
    found = refusal(chain, child)  # its parent is not written yet
    assert found is not None and found.code == "BR_G87"
    assert refusal(chain, child, settled=lambda h: h == payment.hash) is None  # its parent is gone
    chain.write(transactions=[payment])
    assert refusal(chain, payment) is None  # its dividends are spent: never


def test_time_locks_wait_until_they_open_other_unlocks_never(chain: Chain) -> None:
    chain.advance(DAY)
    unlock_at = chain.blocks[-1].median_time + 2 * DAY
    sources = chain.sources("alice")
    total = sum(a * 10**b for _s, a, b in sources)
    locked = f"{sig_condition(chain.key('bob'))} && CLTV({unlock_at})"
    funding = chain.transaction(
        ["alice"], [Input(a, b, s) for s, a, b in sources], [Output(total, 0, locked)]
    )
    chain.write(transactions=[funding])
    source = [Input(total, 0, TransactionSource(funding.hash, 0))]
    early = chain.transaction(["bob"], source, [Output(total, 0, sig_condition(chain.key("bob")))])
    found = refusal(chain, early)
    assert found is not None and found.code == "BR_G88" and found.until == unlock_at
    thief = chain.transaction(["carol"], source, [Output(total, 0, sig_condition(chain.key("carol")))])
    assert refusal(chain, thief) is None


def test_the_table_names_rules_with_reasons() -> None:
    assert {"BR_G67", "BR_G108", "BR_G89"} <= NOT_YET.keys()
    assert all(reason for reason in NOT_YET.values())


def test_expiry_counts_from_the_reference(chain: Chain) -> None:
    cert = chain.cert("alice", "bob")
    assert expires(chain.state, cert) == chain.blocks[-1].median_time + chain.params.sig_window
    assert expires(chain.state, chain.revocation("alice")) is None
