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


def is_within_fork_window(head_number: int, fork_point: int, params: CurrencyParameters) -> bool:
    """A branch forking at block `fork_point` can be adopted without rolling back past the window."""
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
