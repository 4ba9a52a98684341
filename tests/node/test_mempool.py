"""The mempool on a real store: admission with the block rules, bounds, persistence, re-checks."""

from pathlib import Path

import pytest

from node.mempool import LIMITS, Admission, Mempool, NotReady
from node.store import LevelStore
from protocol.conditions import sig_condition
from protocol.documents import Input, Output, Transaction, TransactionSource
from protocol.errors import RuleViolation
from protocol.rules.block import validate_block
from tests.protocol.chain_builder import Chain

DAY = 86400


@pytest.fixture
def chain() -> Chain:
    built = Chain(founders=4)
    built.advance(DAY)
    return built


def open_store(path: Path, chain: Chain) -> LevelStore:
    store = LevelStore.open(path)
    while (store.head_pointer() or (-1,))[0] < chain.blocks[-1].number:
        number = (store.head_pointer() or (-1,))[0] + 1
        block = chain.blocks[number]
        store.apply_block(block, validate_block(store, block), fork_window=100)
    return store


def test_admits_valid_documents_and_refuses_invalid_ones(tmp_path: Path, chain: Chain) -> None:
    pool = Mempool(open_store(tmp_path / "db", chain))
    payment = chain.pay("alice", {"bob": 300})
    theft = chain.transaction(["bob"], payment.inputs, payment.outputs)
    with pytest.raises(RuleViolation) as caught:
        pool.add(theft)
    assert caught.value.code == "BR_G88"
    assert pool.add(payment).admission is Admission.ACCEPTED
    assert pool.add(payment).admission is Admission.KNOWN
    assert len(pool) == 1


def test_a_pending_output_can_be_spent_but_a_pending_spend_not_twice(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    payment = chain.pay("alice", {"bob": 300})
    assert pool.add(payment).admission is Admission.ACCEPTED
    double = chain.pay("alice", {"carol": 100})  # the same sources again
    with pytest.raises(RuleViolation) as caught:
        pool.add(double)
    assert caught.value.code == "BR_G87"
    onward = chain.transaction(
        ["bob"],
        [Input(300, 0, TransactionSource(payment.hash, 0))],
        [Output(300, 0, sig_condition(chain.key("carol")))],
    )
    assert pool.add(onward).admission is Admission.ACCEPTED  # chained on a pending output
    block = chain.block(transactions=pool.documents())  # both fit one block, in order
    store.apply_block(block, validate_block(store, block), fork_window=100)
    assert pool.revalidate() and len(pool) == 0
    store.close()


def test_newcomer_documents_find_their_pending_identity(tmp_path: Path, chain: Chain) -> None:
    pool = Mempool(open_store(tmp_path / "db", chain))
    identity = chain.identity("eve")
    documents = [
        identity,
        chain.membership("eve"),
        *(chain.cert(c, "eve") for c in ("alice", "bob", "carol")),
    ]
    assert [pool.add(d).admission for d in documents] == [Admission.ACCEPTED] * 5
    stranger = chain.cert("alice", "eve")
    assert pool.add(stranger).admission is Admission.KNOWN


def test_bounded_per_issuer(tmp_path: Path, chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(LIMITS, Transaction, (100, 1))
    pool = Mempool(open_store(tmp_path / "db", chain))
    assert pool.add(chain.pay("alice", {"bob": 300})).admission is Admission.ACCEPTED
    full = pool.add(chain.pay("alice", {"carol": 200}))
    assert full.admission is Admission.FULL and "this issuer" in full.reason
    assert pool.add(chain.pay("bob", {"carol": 200})).admission is Admission.ACCEPTED


def test_survives_a_restart_and_drops_what_a_block_wrote(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    payment = chain.pay("alice", {"bob": 300})
    other = chain.pay("carol", {"dave": 100})
    pool.add(payment)
    pool.add(other)
    store.close()
    chain.write(transactions=[payment])
    store = open_store(tmp_path / "db", chain)
    reloaded = Mempool(store)
    assert payment.hash not in reloaded and other.hash in reloaded


def test_not_ready_without_a_chain(tmp_path: Path, chain: Chain) -> None:
    pool = Mempool(LevelStore.open(tmp_path / "empty"))
    with pytest.raises(NotReady):
        pool.add(chain.identity("eve"))


def test_removing_a_document_takes_what_depends_on_it(tmp_path: Path, chain: Chain) -> None:
    pool = Mempool(open_store(tmp_path / "db", chain))
    identity = chain.identity("eve")
    dependants = [chain.membership("eve"), chain.cert("alice", "eve")]
    payment = chain.pay("alice", {"bob": 300})
    onward = chain.transaction(
        ["bob"],
        [Input(300, 0, TransactionSource(payment.hash, 0))],
        [Output(300, 0, sig_condition(chain.key("carol")))],
    )
    other = chain.pay("carol", {"dave": 100})
    for document in [identity, *dependants, payment, onward, other]:
        assert pool.add(document).admission is Admission.ACCEPTED
    pool.remove([identity.hash, payment.hash])
    assert pool.documents() == [other]
    assert pool.consistency_errors() == []
