"""The 3-3 fork rule at the edge of the fork window, with real June blocks.

Ported from Duniter's `test/fast/fork-resolution-3-3.ts` (forkWindowSize 5, switchOnHeadAdvance 3):
B10 -- B11 -- B12 -- B13 on the node, C… branches in its sandbox. Here the blocks are June blocks
written by the chain builder (alice writes B…, bob writes C…, one block of median window, so each
block moves the median time by avgGenTime), and `switch` plays the node's part: it rolls back to the
fork point (never further than the window), applies the branch block by block, stops at the first
invalid one, keeps the branch heads within the window (measured from the branch's head, rules.md
§6.7) and switches if `choose_branch` picks one; otherwise it puts its own chain back.

tests/protocol/test_duniter_fork_window.py already checks the window arithmetic on bare numbers;
these stories check it on applied blocks, with the valid counterpart at the edge (a 5-block branch
that wins) next to the refused one (a 6-block branch).

Not ported: 'should eliminate a fork with missing blocks' and 'should eliminate a fork out of fork
window' (C10…) depend on Duniter's sandbox holding unconnected blocks, a pool behaviour; the part
that is a rule (a block whose predecessor the node does not have cannot be applied) is checked in
`test_fork_resolution_3_3_should_eliminate_a_fork_with_missing_blocks`. 'should select the longest
fork' runs Duniter's switcher with switchOnHeadAdvance 1, a node setting: June's is fixed at 3.
"""

from dataclasses import replace

import pytest

from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.fork import BranchHead, can_roll_back_to, choose_branch, is_within_fork_window
from tests.protocol.chain_builder import Chain, chain_parameters


def summary(block: Block) -> BranchHead:
    return BranchHead(block.number, block.median_time, block.hash)


def main_chain(head: int) -> Chain:
    """Blocks 0 … `head`, written by alice."""
    chain = Chain(founders=4, params=chain_parameters(fork_window_size=5, median_time_blocks=1))
    while chain.blocks[-1].number < head:
        chain.write()
    return chain


def roll_back(chain: Chain, fork_point: int) -> list[Block]:
    undone = []
    while chain.blocks[-1].number > fork_point:
        undone.insert(0, chain.blocks[-1])
        chain.revert()
    return undone


def build_branch(chain: Chain, fork_point: int, last: int, *, slow: bool = False) -> list[Block]:
    """bob's branch after `fork_point` up to block `last`; `slow` blocks do not move the time on."""
    undone = roll_back(chain, fork_point)
    branch = []
    while chain.blocks[-1].number < last:
        head = chain.state.head()
        assert head is not None
        block = chain.block(issuer="bob", time=head.median_time if slow else None)
        chain.add(block)
        branch.append(block)
    roll_back(chain, fork_point)
    for block in undone:
        chain.add(block)
    return branch


def switch(chain: Chain, branch: list[Block]) -> None:
    """The node's fork resolution over one branch (Duniter's Switcher, June's rules)."""
    head = chain.blocks[-1]
    fork_point = branch[0].number - 1
    if not can_roll_back_to(head.number, fork_point, chain.params):
        return
    undone = roll_back(chain, fork_point)
    heads = []
    for block in branch:
        try:
            chain.add(block)
        except RuleViolation:
            break
        if is_within_fork_window(block.number, fork_point, chain.params):
            heads.append(summary(block))
    chosen = choose_branch(summary(head), heads, chain.params)
    while chain.blocks[-1].number > (fork_point if chosen is None else chosen.number):
        chain.revert()
    if chosen is None:
        for block in undone:
            chain.add(block)


@pytest.fixture
def b13() -> Chain:
    return main_chain(13)


def test_fork_resolution_3_3_should_switch_on_a_valid_fork(b13: Chain) -> None:
    """B10…B13, C12…C16 forked after B11: 16 − 11 = 5 ≤ 5 and 3 blocks ahead: the node is on C16."""
    branch = build_branch(b13, 11, 16)
    switch(b13, branch)
    assert b13.blocks[-1] == branch[-1]
    assert b13.blocks[-1].issuer == b13.key("bob")


def test_fork_resolution_3_3_should_not_switch_if_no_fork_block_3_3_exist(b13: Chain) -> None:
    """C12…C15 is only 2 blocks ahead; C12…C16 written without moving the time on is 3 blocks but
    not 3·avgGenTime ahead: the node stays on B13 either way."""
    b13_hash = b13.blocks[-1].hash
    switch(b13, build_branch(b13, 11, 15))
    assert b13.blocks[-1].hash == b13_hash
    slow = build_branch(b13, 11, 16, slow=True)
    assert slow[-1].median_time < b13.blocks[-1].median_time + 3 * b13.params.avg_gen_time
    switch(b13, slow)
    assert b13.blocks[-1].hash == b13_hash


def test_fork_resolution_3_3_should_refuse_a_fork_right_on_the_limit_of_the_fork_window(b13: Chain) -> None:
    """C11…C16 forked after B10: 16 − 10 = 6 > 5, and C15 (within) is only 2 ahead: no switch."""
    b13_hash = b13.blocks[-1].hash
    branch = build_branch(b13, 10, 16)
    switch(b13, branch)
    assert b13.blocks[-1].hash == b13_hash
    assert len(b13.blocks) == 14


def test_fork_resolution_3_3_a_fork_right_on_the_limit_of_the_fork_window_from_b12() -> None:
    """The valid counterpart at the edge: with the node on B12, C11…C15 forked after B10 is exactly
    the window (15 − 10 = 5) and 3 blocks ahead: the node switches to C15."""
    chain = main_chain(12)
    branch = build_branch(chain, 10, 15)
    switch(chain, branch)
    assert chain.blocks[-1] == branch[-1]


def test_fork_resolution_3_3_should_eliminate_a_fork_whose_2nd_block_is_invalid(b13: Chain) -> None:
    """C12, C13, a tampered C14, C15, C16: the node applies C12 and C13 only, 0 blocks ahead."""
    b13_hash = b13.blocks[-1].hash
    branch = build_branch(b13, 11, 16)
    branch[2] = replace(branch[2], members_count=branch[2].members_count + 1)
    switch(b13, branch)
    assert b13.blocks[-1].hash == b13_hash
    assert len(b13.blocks) == 14


def test_fork_resolution_3_3_should_eliminate_a_fork_with_missing_blocks(b13: Chain) -> None:
    """C14 and C15 without C12 and C13: C14 follows neither B11 nor B13, so it cannot be applied;
    with C12 and C13 before it (the valid counterpart), it can."""
    branch = build_branch(b13, 11, 16)
    for head in (11, 13):
        chain = main_chain(head)
        before = chain.state.snapshot(), chain.state.state_digest()
        with pytest.raises(RuleViolation):
            chain.add(branch[2])
        assert (chain.state.snapshot(), chain.state.state_digest()) == before
    chain = main_chain(11)
    for block in branch[:3]:
        chain.add(block)
    assert chain.blocks[-1] == branch[2]
