"""The mempool under floods: admission by priority, eviction with dependants, exact counts, restarts."""

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from node.mempool import LIMITS, PENDING_PREFIX, Admission, Mempool, Origin, issuers_of
from node.store import LevelStore
from protocol.conditions import sig_condition
from protocol.crypto import Hash
from protocol.documents import (
    BlockRef,
    Certification,
    Identity,
    Input,
    Membership,
    MembershipType,
    Output,
    Transaction,
    TransactionSource,
)
from protocol.documents.pending import PendingDocument
from protocol.errors import RuleViolation
from protocol.forge import build_block, prove, required_difficulty
from protocol.keys import Keypair
from protocol.rules.block import validate_block
from tests.node.test_mempool import DAY, open_store
from tests.protocol.chain_builder import CURRENCY, Chain

MEMBERS = ("alice", "bob", "carol", "dave")


@pytest.fixture(scope="module")
def chain() -> Chain:
    built = Chain(founders=4)
    built.advance(DAY)
    return built


def throwaway(number: int) -> Keypair:
    return Keypair(f"junk {number}".encode().ljust(32, b"."))


def junk_identity(chain: Chain, number: int) -> Identity:
    return Identity.create(throwaway(number), CURRENCY, f"junk{number:05d}", chain.ref())


def junk_join(chain: Chain, number: int) -> Membership:
    return Membership.create(throwaway(number), CURRENCY, MembershipType.IN, f"junk{number:05d}", chain.ref())


def certify(chain: Chain, issuer: str, identity: Identity) -> Certification:
    return Certification.create(chain.keys[issuer], CURRENCY, identity.issuer, identity.hash, chain.ref())


def stored(store: LevelStore, document_hash: Hash) -> bool:
    return store.db.get(PENDING_PREFIX + document_hash) is not None


def forge(store: LevelStore, pool: Mempool, chain: Chain, issuer: str = "bob") -> None:
    """Write the next block from the pool, as a forger would, and re-check the pool."""
    head = store.head()
    assert head is not None
    block = build_block(
        store, pool.documents(), chain.key(issuer), head.median_time + chain.params.avg_gen_time
    )
    nonce = prove(block, required_difficulty(store, block))
    assert nonce is not None
    signed = block.signed(chain.keys[issuer], nonce)
    store.apply_block(signed, validate_block(store, signed), fork_window=100)
    pool.revalidate()


def test_a_relayed_flood_at_the_real_limit_leaves_room_for_a_real_newcomer(
    tmp_path: Path, chain: Chain
) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    total = LIMITS[Identity][0]
    junk = [junk_identity(chain, n) for n in range(total + 50)]
    started = time.perf_counter()
    results = [pool.add(d, durable=False, origin=Origin.RELAY).admission for d in junk]
    flood_seconds = time.perf_counter() - started
    assert results == [Admission.ACCEPTED] * total + [Admission.FULL] * 50
    assert len(pool) == total
    full = pool.add(junk_identity(chain, 99_999), origin=Origin.RELAY)
    assert full.admission is Admission.FULL and "none less likely" in full.reason

    eve = chain.identity("eve")
    accepted = pool.add(eve, origin=Origin.CLIENT)
    assert accepted.admission is Admission.ACCEPTED
    assert accepted.evicted == (junk[total - 1].hash,)  # the youngest relayed junk
    assert junk[total - 1].hash not in pool and not stored(store, junk[total - 1].hash)
    newcomer = [*(chain.cert(m, "eve") for m in ("alice", "bob", "carol")), chain.membership("eve")]
    assert [pool.add(d).admission for d in newcomer] == [Admission.ACCEPTED] * 4

    # A second flood, of client submissions now: it takes the relayed junk's places, never eve's
    second = [pool.add(junk_identity(chain, total + 100 + n)).admission for n in range(100)]
    assert second == [Admission.ACCEPTED] * 100
    assert eve.hash in pool and len(pool) == total + 4
    assert pool.consistency_errors() == []

    forge(store, pool, chain)
    written = store.identity(chain.key("eve"))
    assert written is not None and written.member
    assert all(d.hash not in pool for d in [eve, *newcomer])
    assert len(pool) == total - 1 and pool.consistency_errors() == []
    print(f"\n{total + 50} relayed identities offered in {flood_seconds:.2f} s")
    store.close()


def test_relayed_junk_cannot_evict_a_certified_identity(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store, limits={Identity: (10, 1)})
    eve = chain.identity("eve")
    cert = chain.cert("alice", "eve")
    assert pool.add(eve, origin=Origin.RELAY).admission is Admission.ACCEPTED
    assert pool.add(cert, origin=Origin.RELAY).admission is Admission.ACCEPTED
    relayed = [pool.add(junk_identity(chain, n), origin=Origin.RELAY).admission for n in range(40)]
    assert relayed == [Admission.ACCEPTED] * 9 + [Admission.FULL] * 31
    # Client junk outranks relayed junk, but not a certified identity, nor its own elders
    clients = [pool.add(junk_identity(chain, 100 + n)).admission for n in range(20)]
    assert clients == [Admission.ACCEPTED] * 9 + [Admission.FULL] * 11
    assert eve.hash in pool and cert.hash in pool and stored(store, eve.hash)
    assert pool.consistency_errors() == []


def test_client_junk_cannot_evict_a_newcomer_once_a_member_certified_it(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store, limits={Identity: (10, 1)})
    for n in range(10):
        pool.add(junk_identity(chain, n), origin=Origin.RELAY)
    eve = chain.identity("eve")
    assert pool.add(eve, origin=Origin.RELAY).admission is Admission.FULL  # relayed: no place to take
    assert pool.add(eve).evicted == (junk_identity(chain, 9).hash,)
    assert pool.add(chain.cert("bob", "eve"), origin=Origin.RELAY).admission is Admission.ACCEPTED
    # LOCAL junk outranks every client document of equal standing, not a certified one
    flood = [pool.add(junk_identity(chain, 100 + n), origin=Origin.LOCAL).admission for n in range(30)]
    assert flood == [Admission.ACCEPTED] * 9 + [Admission.FULL] * 21
    assert eve.hash in pool and pool.origin(eve.hash) is Origin.CLIENT
    assert pool.consistency_errors() == []


def test_a_join_request_is_ranked_by_its_certifications(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store, limits={Membership: (2, 1)})
    for n in range(4):
        pool.add(junk_identity(chain, n), origin=Origin.RELAY)
    pool.add(junk_join(chain, 0), origin=Origin.RELAY)
    pool.add(junk_join(chain, 1), origin=Origin.RELAY)
    pool.add(chain.identity("eve"), origin=Origin.RELAY)
    pool.add(chain.cert("alice", "eve"), origin=Origin.RELAY)
    joined = pool.add(chain.membership("eve"), origin=Origin.RELAY)  # certified: outranks bare joins
    assert joined.evicted == (junk_join(chain, 1).hash,)
    assert junk_identity(chain, 1).hash in pool  # an identity does not depend on its join
    assert pool.add(junk_join(chain, 2)).evicted == (junk_join(chain, 0).hash,)  # client over relay
    full = pool.add(junk_join(chain, 3))  # younger, of equal rank
    assert full.admission is Admission.FULL and "2 memberships" in full.reason
    renewal = pool.add(chain.membership("bob"), origin=Origin.RELAY)  # a member's: above every join
    assert renewal.evicted == (junk_join(chain, 2).hash,)
    assert pool.consistency_errors() == []


def test_an_identity_replaced_by_its_owner_keeps_a_join_that_still_fits(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    first = Identity.create(chain.keys["frank"], CURRENCY, "frank", chain.ref())
    join = chain.membership("frank")
    assert pool.add(first, origin=Origin.RELAY).admission is Admission.ACCEPTED
    assert pool.add(join, origin=Origin.RELAY).admission is Admission.ACCEPTED
    other_uid = Identity.create(chain.keys["frank"], CURRENCY, "franky", chain.ref())
    refused = pool.add(other_uid)  # the first one has its join: it is likelier
    assert refused.admission is Admission.FULL and "this issuer" in refused.reason
    earlier = chain.blocks[-2]
    again = Identity.create(chain.keys["frank"], CURRENCY, "frank", BlockRef(earlier.number, earlier.hash))
    replaced = pool.add(again)  # same uid, from a client: the join is re-checked and stays
    assert replaced.evicted == (first.hash,)
    assert join.hash in pool and not stored(store, first.hash)
    assert pool.consistency_errors() == []


def test_lower_limits_after_a_restart_evict_identities_with_their_dependants(
    tmp_path: Path, chain: Chain
) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store)
    eve, frank = chain.identity("eve"), chain.identity("frank")
    documents = [
        eve,
        chain.cert("alice", "eve"),
        chain.membership("eve"),
        frank,
        chain.cert("alice", "frank"),
    ]
    documents.append(chain.membership("frank"))
    assert all(pool.add(d).admission is Admission.ACCEPTED for d in documents)
    store.close()
    store = LevelStore.open(tmp_path / "db")
    reopened = Mempool(store, limits={Identity: (1, 1)})
    assert reopened.documents() == documents[:3]  # frank was younger, of equal rank
    assert not any(stored(store, d.hash) for d in documents[3:])
    assert reopened.consistency_errors() == []
    store.close()


def test_transactions_spent_by_pending_ones_are_not_evicted(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store, limits={Transaction: (2, 50)})
    parent = chain.pay("alice", {"bob": 300})
    child = chain.transaction(
        ["bob"],
        [Input(300, 0, TransactionSource(parent.hash, 0))],
        [Output(300, 0, sig_condition(chain.key("carol")))],
    )
    assert pool.add(parent, origin=Origin.RELAY).admission is Admission.ACCEPTED
    assert pool.add(child, origin=Origin.CLIENT).admission is Admission.ACCEPTED
    assert pool.add(chain.pay("carol", {"dave": 10}), origin=Origin.RELAY).admission is Admission.FULL
    # The relayed parent is the lowest, but its child is a client's: it stays while the child does
    assert pool.add(chain.pay("carol", {"dave": 10}), origin=Origin.CLIENT).admission is Admission.FULL
    payment = chain.pay("dave", {"carol": 10})
    assert pool.add(payment, origin=Origin.LOCAL).evicted == (child.hash,)
    assert pool.spending_view().source(TransactionSource(parent.hash, 0)) is not None  # unspent again
    assert pool.spending_view().source(TransactionSource(child.hash, 0)) is None
    onward = chain.transaction(  # spends the relayed parent: the parent is spared, nothing else is lower
        ["bob"],
        [Input(300, 0, TransactionSource(parent.hash, 0))],
        [Output(300, 0, sig_condition(chain.key("dave")))],
    )
    assert pool.add(onward, origin=Origin.LOCAL).admission is Admission.FULL
    assert pool.consistency_errors() == []


def test_the_pool_after_a_restart_is_the_pool_before(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    pool = Mempool(store, limits={Identity: (5, 1)})
    origins = [Origin.RELAY, Origin.CLIENT, Origin.LOCAL]
    for n in range(12):
        pool.add(junk_identity(chain, n), durable=False, origin=origins[n % 3])
    pool.add(chain.identity("eve"), origin=Origin.LOCAL)
    pool.add(chain.cert("carol", "eve"), origin=Origin.RELAY)
    pool.add(chain.pay("alice", {"bob": 5}), origin=Origin.CLIENT)
    before = [(d.hash, pool.origin(d.hash)) for d in pool.documents()]
    assert len(before) == 7 and pool.consistency_errors() == []
    store.close()
    store = LevelStore.open(tmp_path / "db")
    reopened = Mempool(store, limits={Identity: (5, 1)})
    assert [(d.hash, reopened.origin(d.hash)) for d in reopened.documents()] == before
    assert reopened.consistency_errors() == []
    # Age survived too: a younger document of equal rank still cannot take an older one's place
    assert reopened.add(junk_identity(chain, 50), origin=Origin.LOCAL).admission is Admission.FULL
    store.close()


def test_values_stored_without_an_origin_are_read_as_relayed(tmp_path: Path, chain: Chain) -> None:
    store = open_store(tmp_path / "db", chain)
    eve = chain.identity("eve")
    store.db.put(PENDING_PREFIX + eve.hash, eve.to_bytes())  # as older versions stored it
    pool = Mempool(store)
    assert pool.documents() == [eve] and pool.origin(eve.hash) is Origin.RELAY
    assert pool.add(chain.cert("alice", "eve")).admission is Admission.ACCEPTED
    assert pool.consistency_errors() == []
    store.close()


# Counts stay exact whatever happens ------------------------------------------------------------


@pytest.fixture(scope="module")
def material(chain: Chain) -> Iterator[tuple[Path, list[PendingDocument]]]:
    """A store of the chain to copy per example, and documents to offer in random orders."""
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(Path(directory) / "db", chain)
        store.close()
        identities = [junk_identity(chain, n) for n in range(6)]
        documents: list[PendingDocument] = [*identities]
        documents += [junk_join(chain, n) for n in range(6)]
        documents += [certify(chain, m, i) for m in MEMBERS[:3] for i in identities]
        payment = chain.pay("alice", {"bob": 7})
        child = chain.transaction(
            ["bob"],
            [Input(7, 0, TransactionSource(payment.hash, 0))],
            [Output(7, 0, sig_condition(chain.key("dave")))],
        )
        documents += [payment, child, chain.pay("carol", {"bob": 3})]
        yield Path(directory) / "db", documents


DOCUMENTS = 33  # in `material`
OTHER_STEPS = st.lists(
    st.tuples(st.integers(0, 2 * DOCUMENTS), st.sampled_from(["remove", "revalidate", "forge", "restart"])),
    max_size=10,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(range(DOCUMENTS)),
    again=st.permutations(range(DOCUMENTS)),
    origins=st.lists(st.sampled_from(list(Origin)), min_size=2 * DOCUMENTS, max_size=2 * DOCUMENTS),
    steps=OTHER_STEPS,
)
def test_counts_stay_exact_through_adds_evictions_and_revalidations(
    chain: Chain,
    material: tuple[Path, list[PendingDocument]],
    order: list[int],
    again: list[int],
    origins: list[Origin],
    steps: list[tuple[int, str]],
) -> None:
    """Every document offered twice in random orders and origins, with removals, re-checks, blocks
    and restarts in between: after each step the indexes, bounds and stored copy are exact."""
    template, documents = material
    assert len(documents) == DOCUMENTS
    limits = {Identity: (3, 1), Membership: (2, 1), Certification: (6, 2), Transaction: (2, 1)}
    steps_at = {position: action for position, action in steps}
    with tempfile.TemporaryDirectory() as directory:
        shutil.copytree(template, Path(directory) / "db")
        store = LevelStore.open(Path(directory) / "db")
        pool = Mempool(store, limits=limits)
        for position, (index, origin) in enumerate(zip([*order, *again], origins, strict=True)):
            with contextlib.suppress(RuleViolation):
                result = pool.add(documents[index], durable=False, origin=origin)
                event(f"{result.admission}, {'some' if result.evicted else 'none'} evicted")
            action = steps_at.get(position)
            if action == "remove" and len(pool):
                pool.remove([pool.documents()[index % len(pool)].hash])
            elif action == "revalidate":
                pool.revalidate()
            elif action == "forge":
                count = len(pool)
                forge(store, pool, chain)
                event(f"a block wrote {'some' if len(pool) < count else 'none'}")
            elif action == "restart":
                before = [(d.hash, pool.origin(d.hash)) for d in pool.documents()]
                store.close()
                store = LevelStore.open(Path(directory) / "db")
                pool = Mempool(store, limits=limits)
                assert [(d.hash, pool.origin(d.hash)) for d in pool.documents()] == before
            assert pool.consistency_errors() == []
            for kind, (total, per_issuer) in limits.items():
                held = [d for d in pool.documents() if type(d) is kind]
                assert len(held) <= total
                assert all(
                    sum(key in issuers_of(d) for d in held) <= per_issuer
                    for d in held
                    for key in issuers_of(d)
                )
        store.close()
