"""Forging: block 0 from a genesis description, next blocks from pending documents, the nonce search,
and a multi-issuer chain forged in turns where every block validates."""

from dataclasses import replace

import pytest

from protocol.conditions import sig_condition
from protocol.crypto import Hash
from protocol.documents import Input, MembershipType, Output, TransactionSource
from protocol.forge import ForgeError, build_block, build_genesis, prove, required_difficulty
from protocol.fork import BranchHead, choose_branch, is_within_fork_window
from protocol.genesis import dev_genesis, dev_keypair
from protocol.params import G1
from protocol.rules.block import validate_block
from protocol.rules.production import is_hash_valid
from protocol.state import MemoryState
from tests.protocol.chain_builder import Chain
from tests.protocol.rules.helpers import assert_rejected

DAY = 86400


def forge(chain: Chain, issuer: str, pending: list[object], time: int) -> None:
    block = build_block(chain.state, pending, chain.key(issuer), time)  # type: ignore[arg-type]
    nonce = prove(block, required_difficulty(chain.state, block))
    assert nonce is not None
    chain.add(block.signed(chain.keys[issuer], nonce))


def test_genesis_block_from_a_dev_description() -> None:
    description = dev_genesis(time=1_700_000_000, members=4)
    alice = dev_keypair("alice")
    block = build_genesis(description, alice.public_key)
    nonce = prove(block, required_difficulty(MemoryState(), block))
    assert nonce is not None
    signed = block.signed(alice, nonce)
    state = MemoryState()
    delta = validate_block(state, signed)
    state.apply(delta, signed.hash)
    assert state.head().members_count == 4  # type: ignore[union-attr]
    assert state.chain().currency == description.currency  # type: ignore[union-attr]


def test_build_block_keeps_the_valid_documents_only() -> None:
    chain = Chain(founders=4)
    chain.advance(DAY)  # the first UD, and certification periods elapsed
    head = chain.state.head()
    assert head is not None
    payment = chain.pay("alice", {"bob": 300})
    double_spend = chain.pay("alice", {"carol": 200})
    eve = chain.identity("eve")
    newcomer = [eve, chain.membership("eve"), *(chain.cert(c, "eve") for c in ("alice", "bob", "carol"))]
    frank = chain.identity("frank")
    short = [frank, chain.membership("frank"), chain.cert("dave", "frank")]  # one certification only
    stranger = chain.cert("frank", "bob")  # frank is not a member
    pending = [payment, double_spend, *newcomer, *short, stranger]
    forge(chain, "dave", pending, head.median_time + 10)
    block = chain.blocks[-1]
    assert [i.uid for i in block.identities] == ["eve"]
    assert len(block.transactions) == 1
    assert {c.issuer for c in block.certifications} == {chain.key(n) for n in ("alice", "bob", "carol")}
    assert chain.state.identity(chain.key("eve")).member  # type: ignore[union-attr]
    assert chain.balance("alice") == chain.params.ud0 - block.transactions[0].outputs[0].amount


def test_build_block_writes_exclusions_and_dividends_due() -> None:
    chain = Chain(founders=4)
    chain.advance(chain.params.ms_validity - 5 * DAY)
    renewals = [chain.membership(n) for n in ("alice", "bob", "carol")]  # dave lets his membership lapse
    head = chain.state.head()
    assert head is not None
    forge(chain, "alice", renewals, head.median_time + 10)
    for _ in range(30):
        head = chain.state.head()
        assert head is not None
        forge(chain, "bob", [], head.median_time + DAY)
        if not chain.state.identity(chain.key("dave")).member:  # type: ignore[union-attr]
            break
    assert not chain.state.identity(chain.key("dave")).member  # type: ignore[union-attr]
    assert any(b.dividend for b in chain.blocks[-5:])


def test_only_members_forge() -> None:
    chain = Chain(founders=4)
    chain.identity("eve")
    with pytest.raises(ForgeError, match="only members"):
        build_block(chain.state, [], chain.key("eve"), 1_800_000_000)


def test_forger_never_dates_a_block_beyond_the_acceleration() -> None:
    chain = Chain(founders=4)
    head = chain.state.head()
    assert head is not None
    block = build_block(chain.state, [], chain.key("alice"), head.median_time + 10 * 365 * DAY)
    assert block.time == block.median_time + chain.params.max_acceleration


def test_prove_can_be_stopped() -> None:
    chain = Chain(founders=4)
    block = chain.block()
    calls = []

    def stop() -> bool:
        calls.append(1)
        return True

    assert prove(block, 16 * 60, should_stop=stop, check_every=100) is None
    assert calls == [1]


def test_prove_shares_the_search_between_workers() -> None:
    chain = Chain(founders=4)
    block = chain.block()
    found = [prove(block, 8, start=worker, step=2) for worker in (0, 1)]
    assert found[0] is not None and found[0] % 2 == 0
    assert found[1] is not None and found[1] % 2 == 1
    assert all(is_hash_valid(replace(block, nonce=n).hash, 8) for n in found if n is not None)


def test_issuers_forging_in_turns_keep_every_block_valid_and_rotate_the_difficulty() -> None:
    chain = Chain(founders=5)
    names = ["alice", "bob", "carol", "dave", "eve"]
    for index in range(100):
        head = chain.state.head()
        assert head is not None
        forge(chain, names[index % 5], [], head.median_time + chain.params.avg_gen_time)
    # Whoever wrote the head pays more to write again at once than whoever has waited longest.
    again = build_block(chain.state, [], chain.key("eve"), chain.state.head().median_time + 10)  # type: ignore[union-attr]
    waited = build_block(chain.state, [], chain.key("alice"), chain.state.head().median_time + 10)  # type: ignore[union-attr]
    assert required_difficulty(chain.state, again) > required_difficulty(chain.state, waited)
    # A lone issuer's difficulty climbs block after block.
    difficulties = []
    for _ in range(6):
        head = chain.state.head()
        assert head is not None
        block = build_block(chain.state, [], chain.key("alice"), head.median_time + 10)
        difficulties.append(required_difficulty(chain.state, block))
        forge(chain, "alice", [], head.median_time + 10)
    assert difficulties[-1] > difficulties[0]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("time", -1, "checkBlockTimes"),
        ("issuers_frame", +1, "BR_G55"),
        ("pow_min", +1, "BR_G61"),
        ("state_digest", None, "BR_STATE_DIGEST"),
        ("nonce", None, "checkBlockSignature"),
        ("signature", None, "checkBlockSignature"),
    ],
)
def test_tampered_forged_block_is_rejected(field: str, value: int | None, code: str) -> None:
    chain = Chain(founders=5)
    for name in ["alice", "bob", "carol", "dave", "eve"] * 3:
        forge(chain, name, [], chain.state.head().median_time + 10)  # type: ignore[union-attr]
    block = build_block(chain.state, [], chain.key("alice"), chain.state.head().median_time + 10)  # type: ignore[union-attr]
    nonce = prove(block, required_difficulty(chain.state, block))
    assert nonce is not None
    signed = block.signed(chain.keys["alice"], nonce)
    if field == "time":
        changed = replace(block, time=block.median_time - 1)
        tampered = changed.signed(chain.keys["alice"], prove(changed, 0) or 0)
    elif field == "nonce":
        tampered = replace(signed, nonce=signed.nonce + 1)
    elif field == "signature":
        tampered = replace(signed, signature=chain.keys["bob"].sign(signed.signing_message()))
    else:
        current = getattr(block, field)
        changed = replace(block, **{field: Hash(bytes(32)) if value is None else current + value})
        changed_nonce = prove(changed, required_difficulty(chain.state, changed))
        assert changed_nonce is not None
        tampered = changed.signed(chain.keys["alice"], changed_nonce)
    assert_rejected(chain, tampered, code)
    chain.add(signed)


def test_fork_choice_three_three_rule() -> None:
    head = BranchHead(100, 1_000_000, b"\x05")
    assert choose_branch(head, [], G1) is None
    assert choose_branch(head, [BranchHead(102, 1_010_000)], G1) is None  # only 2 blocks ahead
    assert choose_branch(head, [BranchHead(103, 1_000_899)], G1) is None  # not 3·avgGenTime later
    best = BranchHead(104, 1_002_000, b"\x02")
    assert choose_branch(head, [BranchHead(103, 1_001_000), best], G1) == best
    tie = [BranchHead(104, 1_002_000, b"\x09"), best]
    assert choose_branch(head, tie, G1) == best  # equal length: lowest hash, the same on every peer


def test_fork_window() -> None:
    assert is_within_fork_window(500, 400, G1)
    assert not is_within_fork_window(500, 399, G1)
    assert not is_within_fork_window(500, 501, G1)


def test_membership_type_round_trip_in_forged_block() -> None:
    chain = Chain(founders=4)
    chain.advance(chain.params.ms_period + 10)
    leaver = chain.membership("dave", MembershipType.OUT)
    forge(chain, "alice", [leaver], chain.state.head().median_time + 10)  # type: ignore[union-attr]
    assert chain.blocks[-1].leavers == (leaver,)


def test_chained_pending_transactions_go_in_one_block_whatever_their_order() -> None:
    chain = Chain(founders=4)
    chain.advance(86400)
    parent = chain.pay("alice", {"bob": 300})
    child = chain.transaction(
        ["bob"],
        [Input(300, 0, TransactionSource(parent.hash, 0))],
        [Output(300, 0, sig_condition(chain.key("carol")))],
    )
    head = chain.state.head()
    assert head is not None
    for pending in ([parent, child], [child, parent]):
        block = build_block(chain.state, pending, chain.key("alice"), head.median_time + 10)
        assert block.transactions == (parent, child)
