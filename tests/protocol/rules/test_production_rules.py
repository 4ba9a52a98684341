"""Block production rules: time, issuers frame, powMin, personalised difficulty, proof of work, size."""

from dataclasses import replace

import pytest

from protocol.crypto import Hash
from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.forge import prove, required_difficulty
from protocol.rules.block import validate_block
from protocol.rules.production import is_hash_valid, personal_difficulty
from protocol.state import BlockSummary
from tests.protocol.chain_builder import Chain
from tests.protocol.rules.helpers import assert_rejected, rejected


def resigned(chain: Chain, block: Block, issuer: str = "alice", **changes: object) -> Block:
    """`block` with `changes`, proven and signed again, so that only the changed rule can fail."""
    changed = replace(block, **changes)  # type: ignore[arg-type]
    nonce = prove(changed, required_difficulty(chain.state, changed))
    assert nonce is not None
    return changed.signed(chain.keys[issuer], nonce)


def test_checkBlockTimes_time_within_median_and_acceleration(chain: Chain) -> None:
    block = chain.block()
    assert_rejected(chain, resigned(chain, block, time=block.median_time - 1), "checkBlockTimes")
    too_far = block.median_time + chain.params.max_acceleration + 1
    assert_rejected(chain, resigned(chain, block, time=too_far), "checkBlockTimes")


def test_BR_G57_median_time_is_the_floored_mean(chain: Chain) -> None:
    for offset in (10, 50, 30, 70):
        chain.write(time=chain.state.head().median_time + offset)  # type: ignore[union-attr]
    times = [b.time for b in chain.blocks[-5:]]
    block = chain.block()
    assert block.median_time == max(chain.blocks[-1].median_time, sum(times) // len(times))
    assert_rejected(
        chain, resigned(chain, block, median_time=block.median_time + 1, time=block.time + 1), "BR_G57"
    )


def test_BR_G54_G55_G56_issuers_frame(chain: Chain) -> None:
    for name in ("alice", "bob", "carol", "bob", "alice", "dave", "carol"):
        chain.write(issuer=name)
    block = chain.block()
    assert block.issuers_count == len({b.issuer for b in chain.blocks[-chain.blocks[-1].issuers_frame :]})
    assert_rejected(chain, resigned(chain, block, issuers_count=block.issuers_count + 1), "BR_G54")
    assert_rejected(chain, resigned(chain, block, issuers_frame=block.issuers_frame + 1), "BR_G55")
    assert_rejected(chain, resigned(chain, block, issuers_frame_var=block.issuers_frame_var - 1), "BR_G56")


def test_issuers_frame_follows_five_times_the_issuers() -> None:
    chain = Chain(founders=6)
    names = ["alice", "bob", "carol", "dave", "eve", "frank"]
    for index in range(150):
        chain.write(issuer=names[index % 6])
    head = chain.state.head()
    assert head is not None and head.issuers_count == 6
    assert abs(head.issuers_frame - (5 * 6 + 1)) <= 2


def test_BR_G61_pow_min_follows_the_speed() -> None:
    chain = Chain(founders=4)
    for index in range(40):  # blocks far faster than avgGenTime: powMin rises every dtDiffEval blocks
        chain.write(
            issuer=["alice", "bob", "carol", "dave"][index % 4], time=chain.state.head().median_time + 1
        )  # type: ignore[union-attr]
    assert chain.state.head().pow_min >= 3  # type: ignore[union-attr]
    block = chain.block(issuer="bob")
    assert_rejected(chain, resigned(chain, block, "bob", pow_min=block.pow_min + 1), "BR_G61")


def test_BR_G62_proof_of_work_meets_the_personal_difficulty(chain: Chain) -> None:
    block = chain.block()  # alice wrote the only previous block: her handicap makes the difficulty > 0
    difficulty = required_difficulty(chain.state, block)
    assert difficulty > 0
    nonce = next(n for n in range(1000) if not is_hash_valid(replace(block, nonce=n).hash, difficulty))
    assert_rejected(chain, block.signed(chain.keys["alice"], nonce), "BR_G62")


def test_checkProofOfWork_local_prefix() -> None:
    chain = Chain(founders=4)
    block = chain.block()
    high = replace(block, pow_min=32)
    nonce = next(n for n in range(100) if not replace(high, nonce=n).hash.hex().startswith("00"))
    assert_rejected(chain, high.signed(chain.keys["alice"], nonce), "checkProofOfWork")


def test_BR_G101_issuer_must_be_member(chain: Chain) -> None:
    chain.identity("eve")
    rejected(chain, "BR_G101", issuer="eve")


def test_BR_G01_G02_G03_chaining(chain: Chain) -> None:
    block = chain.block()
    assert_rejected(chain, resigned(chain, block, previous_hash=Hash(bytes(32))), "BR_G02")
    assert_rejected(chain, resigned(chain, block, previous_issuer=chain.key("bob")), "BR_G03")
    chain.add(block)
    assert_rejected(chain, block, "BR_G01")


def test_BR_G98_currency(chain: Chain) -> None:
    block = chain.block()
    with pytest.raises(RuleViolation):
        validate_block(chain.state, resigned(chain, block, currency="other"))


def test_BR_STATE_DIGEST(chain: Chain) -> None:
    block = chain.block()
    assert_rejected(chain, resigned(chain, block, state_digest=Hash(bytes(32))), "BR_STATE_DIGEST")


def test_checkBlockSignature(chain: Chain) -> None:
    block = chain.block()
    forged = replace(block, signature=chain.keys["bob"].sign(block.signing_message()))
    assert_rejected(chain, forged, "checkBlockSignature")


def test_BR_G50_block_size() -> None:
    summaries = []
    chain = Chain(founders=4)
    for _ in range(3):
        chain.write()
    summaries = [chain.state.block_summary(n) for n in range(len(chain.blocks))]
    assert all(isinstance(s, BlockSummary) for s in summaries)
    from protocol.rules.production import compute_max_block_size

    assert compute_max_block_size(chain.state, len(chain.blocks), 1) == 500


# The worked examples of rules.md §6.5 ------------------------------------------------------------


@pytest.mark.parametrize(("blocks_since", "expected"), [(10, 85), (5, 245)])
def test_worked_difficulty_examples(blocks_since: int, expected: int) -> None:
    counts = [4, 2, 2, 1, 1, 3]
    difficulty = personal_difficulty(
        pow_min=80,
        counts=counts,
        personal=4,
        previous_issuers=30,
        blocks_since=blocks_since,
        percent_rot=0.67,
    )
    assert difficulty == expected
    zeros, remainder = divmod(difficulty, 16)
    assert (zeros, "0123456789ABCDEF"[15 - remainder]) == (5 if expected == 85 else 15, "A")


def test_worked_difficulty_powmin_79_without_personal_blocks() -> None:
    difficulty = personal_difficulty(
        pow_min=79,
        counts=[4, 2, 2, 1, 1, 3],
        personal=0,
        previous_issuers=0,
        blocks_since=0,
        percent_rot=0.67,
    )
    assert difficulty == 80


def test_difficulty_rotates_between_issuers() -> None:
    """An issuer who just wrote a block pays more than one who has not written for a while."""
    chain = Chain(founders=5)
    names = ["alice", "bob", "carol", "dave", "eve"]
    for index in range(60):
        chain.write(issuer=names[index % 5])
    fresh = chain.block(issuer="alice")  # alice wrote 5 blocks ago
    recent = chain.block(issuer="eve")  # eve wrote the head
    assert required_difficulty(chain.state, recent) >= required_difficulty(chain.state, fresh)


def test_hash_prefix_check() -> None:
    assert is_hash_valid(Hash(bytes.fromhex("00000A" + "FF" * 29)), 85)  # 5 zeros, then ≤ A
    assert not is_hash_valid(Hash(bytes.fromhex("00000B" + "FF" * 29)), 85)
    assert is_hash_valid(Hash(bytes.fromhex("0000" + "F" * 2 + "FF" * 29)), 64)
    assert not is_hash_valid(Hash(bytes.fromhex("0001" + "FF" * 30)), 64)
