"""Documents not valid yet wait in the pool until they are written or can never be (issue 13).

Each test builds a chain with the rule tests' builder, replays it into a real store, then forges
blocks from the pool with `build_block` as the node's forger does, re-checking the pool after each.
"""

import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from node.mempool import MAX_OUTCOMES, OUTCOME_PREFIX, Admission, Mempool, Origin, State
from node.store import LevelStore
from protocol.conditions import sig_condition
from protocol.documents import Input, Output, Transaction, TransactionSource
from protocol.errors import RuleViolation
from protocol.forge import build_block, prove, required_difficulty
from protocol.rules.block import validate_block
from tests.node.test_mempool import DAY, open_store
from tests.protocol.chain_builder import Chain, chain_parameters


def forge(store: LevelStore, pool: Mempool, chain: Chain, *, time: int | None = None) -> int:
    """Write the next block from the pool, as the forger would, re-check the pool; the block's number."""
    head = store.head()
    assert head is not None
    when = head.median_time + chain.params.avg_gen_time if time is None else time
    block = build_block(store, pool.documents(), chain.key("bob"), when)
    nonce = prove(block, required_difficulty(store, block))
    assert nonce is not None
    signed = block.signed(chain.keys["bob"], nonce)
    store.apply_block(signed, validate_block(store, signed), fork_window=100)
    pool.revalidate()
    assert pool.consistency_errors() == []
    return signed.number


def advance(store: LevelStore, pool: Mempool, chain: Chain, seconds: int) -> None:
    """Forge blocks from the pool until the head's median time moved `seconds` ahead."""
    head = store.head()
    assert head is not None
    target = head.median_time + seconds
    while (current := store.head()) is not None and current.median_time < target:
        forge(store, pool, chain, time=target)


def test_two_certifications_of_one_issuer_to_two_newcomers_are_both_written(tmp_path: Path) -> None:
    chain = Chain(founders=4, params=chain_parameters(sig_qty=2, sig_period=3600))
    chain.advance(DAY)
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    documents = [
        chain.identity("eve"),
        chain.identity("frank"),
        chain.membership("eve"),
        chain.membership("frank"),
        chain.cert("alice", "eve"),
        chain.cert("bob", "eve"),
        chain.cert("alice", "frank"),
        chain.cert("carol", "frank"),
    ]
    assert [pool.add(d).admission for d in documents] == [Admission.ACCEPTED] * 8
    first = forge(store, pool, chain)
    written = {d.hash: pool.status(d.hash) for d in documents}
    alice_certs = [documents[4].hash, documents[6].hash]
    states = sorted(written[h].state for h in alice_certs)
    assert states == [State.WAITING, State.WRITTEN]  # one per sigPeriod
    late = next(h for h in alice_certs if written[h].state is State.WAITING)
    status = pool.status(late)
    assert status.reason.startswith("BR_G67") and status.until is not None
    head = store.head()
    assert head is not None and status.until > head.median_time
    assert late in pool
    advance(store, pool, chain, 3600)
    for _ in range(3):
        if late not in pool:
            break
        forge(store, pool, chain)
    final = pool.status(late)
    assert final.state is State.WRITTEN and final.block is not None and final.block > first
    assert len(pool) == 0
    assert all(pool.status(d.hash).state is State.WRITTEN for d in documents)
    eve, frank = store.identity(chain.key("eve")), store.identity(chain.key("frank"))
    assert eve is not None and eve.member and frank is not None and frank.member
    with pytest.raises(RuleViolation):  # written already: sent again, it does not wait
        pool.add(documents[4])


def test_a_renewal_sent_too_early_is_written_when_its_period_comes(tmp_path: Path) -> None:
    chain = Chain(founders=4)
    chain.advance(3600)  # msPeriod is a day: the founders renew from a day after block 0
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    renewal = chain.membership("alice")
    result = pool.add(renewal)
    assert result.admission is Admission.WAITING
    assert result.reason.startswith("BR_G108") and result.until == chain.blocks[0].median_time + DAY
    forge(store, pool, chain)
    assert pool.status(renewal.hash).state is State.WAITING
    advance(store, pool, chain, DAY)
    forge(store, pool, chain)
    assert pool.status(renewal.hash).state is State.WRITTEN
    record = store.membership(chain.key("alice"))
    assert record is not None and record.ref_number == renewal.block.number


def test_a_cltv_locked_spend_sent_early_is_written_at_its_time(tmp_path: Path) -> None:
    chain = Chain(founders=4)
    chain.advance(DAY)
    head = chain.blocks[-1]
    unlock_at = head.median_time + 2 * DAY
    locked = f"{sig_condition(chain.key('bob'))} && CLTV({unlock_at})"
    sources = chain.sources("alice")
    funding = chain.transaction(
        ["alice"],
        [Input(amount, base, source) for source, amount, base in sources],
        [Output(sum(a * 10**b for _s, a, b in sources), 0, locked)],
    )
    chain.write(transactions=[funding])
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    total = funding.outputs[0].amount
    spend = chain.transaction(
        ["bob"],
        [Input(total, 0, TransactionSource(funding.hash, 0))],
        [Output(total, 0, sig_condition(chain.key("bob")))],
    )
    result = pool.add(spend)
    assert result.admission is Admission.WAITING and result.reason.startswith("BR_G88")
    assert result.until == unlock_at
    with pytest.raises(RuleViolation):  # a relayed one is refused, as before
        Mempool(open_store(tmp_path / "other", chain)).add(spend, origin=Origin.RELAY)
    forge(store, pool, chain)
    assert pool.status(spend.hash).state is State.WAITING
    advance(store, pool, chain, 2 * DAY)
    forge(store, pool, chain)
    assert pool.status(spend.hash).state is State.WRITTEN


def test_a_waiting_document_expires_by_its_window_with_a_logged_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    chain = Chain(founders=4, params=chain_parameters(ms_period=10 * DAY))  # msWindow is 7 days
    chain.advance(3600)
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    renewal = chain.membership("alice")
    assert pool.add(renewal).admission is Admission.WAITING
    expiry = pool.status(renewal.hash).expires
    assert expiry == chain.blocks[-1].median_time + 7 * DAY
    caplog.set_level(logging.INFO, logger="june.mempool")
    advance(store, pool, chain, 6 * DAY)
    assert pool.status(renewal.hash).state is State.WAITING
    advance(store, pool, chain, 2 * DAY)
    status = pool.status(renewal.hash)
    assert status.state is State.DROPPED and status.reason.startswith("BR_G64")
    assert f"mempool: dropped membership {renewal.hash.hex()[:16]}: BR_G64" in caplog.text
    reopened = Mempool(store)  # outcomes survive a restart
    assert reopened.status(renewal.hash) == status


def test_a_bad_signature_is_refused_even_when_another_rule_is_only_not_yet(tmp_path: Path) -> None:
    chain = Chain(founders=4)
    chain.advance(3600)
    pool = Mempool(open_store(tmp_path / "db", chain))
    renewal = chain.membership("alice")
    forged = replace(renewal, signature=chain.membership("bob").signature)
    with pytest.raises(RuleViolation):
        pool.add(forged)
    assert pool.status(forged.hash).state is State.UNKNOWN


def chained_payments(chain: Chain) -> list[Transaction]:
    """15 payments: alice, bob and carol each pay dave five times in a row, each spending the
    change of the one before (chains of depth 5)."""
    payments: list[Transaction] = []
    for payer in ("alice", "bob", "carol"):
        previous = chain.pay(payer, {"dave": 10})
        payments.append(previous)
        for _ in range(4):
            change = previous.outputs[1].amount
            previous = chain.transaction(
                [payer],
                [Input(change, 0, TransactionSource(previous.hash, 1))],
                [
                    Output(10, 0, sig_condition(chain.key("dave"))),
                    Output(change - 10, 0, sig_condition(chain.key(payer))),
                ],
            )
            payments.append(previous)
    return payments


@pytest.mark.parametrize("closed", [True, False], ids=["clean-close", "killed"])
def test_chained_payments_survive_a_restart_and_are_all_written(tmp_path: Path, closed: bool) -> None:
    chain = Chain(founders=4)
    chain.advance(DAY)
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    payments = chained_payments(chain)
    carol = payments[10:]
    in_order = payments[:10] + carol[::-1]  # carol's child arrives before its parent: it waits
    results = [pool.add(p).admission for p in in_order]
    assert results == [Admission.ACCEPTED] * 10 + [Admission.WAITING] * 4 + [Admission.ACCEPTED]
    assert pool.status(carol[4].hash).reason.startswith("BR_G87")
    pool.revalidate()  # on the same head: carol's children find their parent now
    assert {d.hash for d in pool.take_ready()} == {p.hash for p in carol[1:]}  # to gossip
    assert pool.take_ready() == []
    if closed:
        store.close()
        reopened = LevelStore.open(tmp_path / "db")
    else:  # a kill: the store is copied while open, never closed
        shutil.copytree(tmp_path / "db", tmp_path / "copy")
        reopened = LevelStore.open(tmp_path / "copy")
    pool = Mempool(reopened)
    assert pool.consistency_errors() == []
    assert {d.hash for d in pool.documents()} == {p.hash for p in payments}
    assert all(pool.status(p.hash).state is State.PENDING for p in payments)  # parents first now
    for _ in range(5):
        if not len(pool):
            break
        forge(reopened, pool, chain)
    assert len(pool) == 0
    assert all(pool.status(p.hash).state is State.WRITTEN for p in payments)
    assert reopened.head() is not None
    if not closed:
        store.close()
    reopened.close()


def test_outcomes_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = Chain(founders=4)
    chain.advance(DAY)
    store = open_store(tmp_path / "db", chain)
    monkeypatch.setattr("node.mempool.MAX_OUTCOMES", 3)
    pool = Mempool(store)
    payments = chained_payments(chain)[:5]
    for payment in payments:
        pool.add(payment)
    pool.remove([payments[0].hash])  # its four children leave with it
    assert [pool.status(p.hash).state for p in payments] == [State.UNKNOWN] * 2 + [State.DROPPED] * 3
    assert len(list(store.db.iterator(prefix=OUTCOME_PREFIX))) == 3
    assert MAX_OUTCOMES == 10_000
