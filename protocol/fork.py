"""Fork choice: when a node leaves its chain for a longer branch (rules.md §6.7, Duniter's Switcher).

The node validates candidate branches itself; this module only decides, given the head and the
heads of the valid branches, which branch (if any) to switch to, and whether a fork point is near
enough to roll back to.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.params import SWITCH_ON_BRANCH_AHEAD_BY_X_BLOCKS, CurrencyParameters


@dataclass(frozen=True, slots=True)
class BranchHead:
    """The last block of a chain or branch: its number and median time (and hash, to tell them apart)."""

    number: int
    median_time: int
    hash: bytes = b""


def is_within_fork_window(branch_head: int, fork_point: int, params: CurrencyParameters) -> bool:
    """A branch whose last block is `branch_head`, forking after main-chain block `fork_point`, is
    within the fork window: `branch_head − fork_point ≤ forkWindowSize` (rules.md §6.7).

    The window is measured from the *branch's* head, not the node's (Duniter
    `Switcher.findPotentialSuites`): with a window of 5, C11…C16 forked after B10 is refused
    (16 − 10 = 6), while its prefix C11…C15 is still a branch.
    """
    return 0 <= branch_head - fork_point <= params.fork_window_size


def can_roll_back_to(head_number: int, fork_point: int, params: CurrencyParameters) -> bool:
    """The node may revert its chain to `fork_point`: never further back than the fork window.

    A branch within the window (from its own head) that fails this can never win either: to be
    chosen its head must reach `head_number + 3`, which is then more than the window past the fork
    point. So this bound only drops branches that could never become the chain.
    """
    return 0 <= head_number - fork_point <= params.fork_window_size


def choose_branch(
    head: BranchHead, branches: Sequence[BranchHead], params: CurrencyParameters
) -> BranchHead | None:
    """The valid branch to switch to, or None to stay.

    The longest branch wins (highest number; ties go to the lowest hash so every peer picks the
    same), and only if it is at least 3 blocks and 3·avgGenTime of median time ahead of the head.
    """
    if not branches:
        return None
    best = max(branches, key=lambda b: (b.number, [-byte for byte in b.hash]))
    ahead_blocks = best.number >= head.number + SWITCH_ON_BRANCH_AHEAD_BY_X_BLOCKS
    ahead_time = (
        best.median_time >= head.median_time + SWITCH_ON_BRANCH_AHEAD_BY_X_BLOCKS * params.avg_gen_time
    )
    return best if ahead_blocks and ahead_time else None
