"""The fork window is measured from the branch's head (issue 14 item 4; rules.md §6.7).

Duniter `test/fast/fork-resolution-3-3.ts`, forkWindowSize 5, switchOnHeadAdvance 3: the switcher
(`Switcher.findPotentialSuites`) builds a suite backwards from each candidate block while
`previous.number > candidate.number − forkWindowSize`; a suite reaching the main chain inside that
bound is a branch. So a branch is considered iff `branch_head − fork_point ≤ forkWindowSize`,
whatever the node's own head. June used to measure from its own head (13 − 10 = 3) and switched.

`duniter_switch` below replays that algorithm over `is_within_fork_window` and `choose_branch`:
every candidate is tried as a branch head (so a too-long suite's prefix is still a branch).
"""

from dataclasses import replace

from protocol.fork import BranchHead, can_roll_back_to, choose_branch, is_within_fork_window
from protocol.params import CurrencyParameters, dev_parameters

PARAMS: CurrencyParameters = replace(dev_parameters(0), fork_window_size=5, avg_gen_time=300)
T0 = 1_000_000


def block(number: int, name: str) -> BranchHead:
    """A block named like Duniter's test ('B13', 'C16'): one avgGenTime of median time per number."""
    return BranchHead(number, T0 + number * PARAMS.avg_gen_time, name.encode())


def duniter_switch(head: int, fork_point: int, branch: range) -> BranchHead | None:
    """The branch head Duniter's 3-3 algorithm switches to, main chain B…head, candidates C…."""
    heads = [
        block(n, f"C{n}")
        for n in branch
        if is_within_fork_window(n, fork_point, PARAMS) and can_roll_back_to(head, fork_point, PARAMS)
    ]
    return choose_branch(block(head, f"B{head}"), heads, PARAMS)


def test_fork_resolution_3_3_should_refuse_a_fork_right_on_the_limit_of_the_fork_window() -> None:
    """B10 -- B11 -- B12 -- B13, and C11 … C16 forked after B10: 16 − 10 = 6 > 5, no switch.

    Its prefix C11 … C15 is within the window but only 2 blocks ahead of B13."""
    assert not is_within_fork_window(16, 10, PARAMS)
    assert is_within_fork_window(15, 10, PARAMS)
    assert duniter_switch(13, 10, range(11, 17)) is None


def test_fork_resolution_3_3_should_switch_on_a_valid_fork() -> None:
    """The valid counterpart: C12 … C16 forked after B11, 16 − 11 = 5 ≤ 5, 3 blocks ahead: switch."""
    assert is_within_fork_window(16, 11, PARAMS)
    assert duniter_switch(13, 11, range(12, 17)) == block(16, "C16")


def test_fork_window_is_not_measured_from_the_nodes_head() -> None:
    """The old, wrong measure (13 − 10 = 3) would have let C16 in; the branch's own length decides."""
    assert can_roll_back_to(13, 10, PARAMS)
    assert not is_within_fork_window(16, 10, PARAMS)


def test_fork_window_bounds() -> None:
    assert is_within_fork_window(10, 10, PARAMS)
    assert not is_within_fork_window(9, 10, PARAMS)  # a branch head before its fork point
    assert can_roll_back_to(15, 10, PARAMS)
    assert not can_roll_back_to(16, 10, PARAMS)
