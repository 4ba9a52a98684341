"""Personalised difficulty over an issuers frame (BR_G18, G62), as a chain story.

Ported from Duniter's `test/integration/protocol/v0.6-difficulties.ts`, 'should be able to emit a
block#1 by a different user': cat and tac (alice and bob) with avgGenTime 5000 s and one block of
median window, every block written at the same time `now`, so blocks come far too fast and powMin
rises at the first difficulty reevaluation (dtDiffEval 10, June's dev value): block 10 is the first
with powMin 1, so the levels asked after block 9 already count it, here as there.
cat writes every block but block 2 (tac's). Duniter's `/blockchain/hardship/<pub>` level is the
difficulty the key needs for the next block: June's `compute_personal_difficulty` on the next
block's powMin. The levels agree step by step, with Duniter's own arithmetic in its comments:
medianOfBlocksInFrame, personal excess, rotation and the frame that grows by one per block until it
no longer holds tac's block (level 1 for both).

Not ported: the two-node network (s2 syncing from s1) is not a rule. Where Duniter's test only
asks the API, the stories also check the block rule: a block proved below its issuer's level is
refused (BR_G62), the same block proved at that level is accepted.
"""

import pytest

from protocol.documents import Block
from protocol.forge import prove
from protocol.rules.production import compute_header, compute_personal_difficulty, is_hash_valid
from tests.protocol.chain_builder import START, Chain, chain_parameters
from tests.protocol.rules.helpers import assert_rejected

# (block just written, its issuer, cat's level, tac's level) from Duniter's expectJSON calls.
LEVELS = [
    (2, "bob", 4, 4),  # MEDIAN([1, 1]) = 1, both 100 % in excess
    (3, "alice", 4, 1),  # MEDIAN([1, 2]) = 1.5: tac 2/1.5 = 33 %
    (4, "alice", 4, 0),  # MEDIAN([1, 3]) = 2: tac 0 %
    (5, "alice", 4, 0),
    (6, "alice", 4, 0),
    (7, "alice", 4, 0),
    (8, "alice", 4, 0),
    (9, "alice", 5, 1),  # powMin incremented: 1 + 4 and 1 + 0
    (10, "alice", 5, 1),
    (11, "alice", 5, 1),
    (12, "alice", 5, 1),
    (13, "alice", 1, 1),  # the frame no longer holds tac's block: MEDIAN([11]) = 11
]


def levels(chain: Chain) -> tuple[int, int]:
    """Duniter's hardship levels of cat and tac: the difficulty each needs for the next block."""
    header = compute_header(chain.state, chain.params, chain.blocks[-1].number + 1)
    cat, tac = (
        compute_personal_difficulty(chain.state, chain.params, chain.key(n), header.number, header.pow_min)
        for n in ("alice", "bob")
    )
    return cat, tac


@pytest.fixture
def chain() -> Chain:
    """Blocks 0 and 1 by cat, at `now`."""
    chain = Chain(founders=2, params=chain_parameters(avg_gen_time=5000, median_time_blocks=1, sig_qty=1))
    chain.write(issuer="alice", time=START)
    return chain


def test_v0_6_difficulties_should_be_able_to_emit_a_block_1_by_a_different_user(chain: Chain) -> None:
    for number, issuer, cat, tac in LEVELS:
        chain.write(issuer=issuer, time=START)
        assert chain.blocks[-1].number == number
        assert levels(chain) == (cat, tac), f"after block {number}"
    assert [b.pow_min for b in chain.blocks[8:11]] == [0, 0, 1]  # block 10 is the first with powMin 1
    assert chain.blocks[2].issuer == chain.key("bob")


def underproved(chain: Chain, block: Block, issuer: str, below: int, level: int) -> Block:
    """`block` signed with the first nonce meeting difficulty `below` but not `level`."""
    nonce = 0
    while True:
        nonce = prove(block, below, start=nonce)
        assert nonce is not None
        signed = block.signed(chain.keys[issuer], nonce)
        if not is_hash_valid(signed.hash, level):
            return signed
        nonce += 1


def test_v0_6_difficulties_a_block_below_its_issuers_level_is_refused(chain: Chain) -> None:
    """After block 4 cat needs 4 and tac 0: cat's block proved at tac's level is refused; the same
    block proved at cat's level, and tac's block at 0, are accepted."""
    for _number, issuer, _cat, _tac in LEVELS[:3]:
        chain.write(issuer=issuer, time=START)
    assert levels(chain) == (4, 0)
    block = chain.block(issuer="alice", time=START)
    assert_rejected(chain, underproved(chain, block, "alice", 0, 4), "BR_G62", "does not meet difficulty 4")
    chain.add(block)  # proved by the chain builder at cat's level
    assert levels(chain) == (4, 0)
    tacs = chain.block(issuer="bob", time=START)
    chain.add(underproved(chain, tacs, "bob", 0, 4))  # tac needs 0: any nonce will do
