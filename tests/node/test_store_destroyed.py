"""The store's index of money destroyed by the 1-unit rule (BR_G106): written with each block on
every path that applies one, and erased with it on every path that reverts one."""

from pathlib import Path

from node.store import LevelStore
from protocol.conditions import sig_condition
from protocol.rules.block import validate_block
from protocol.rules.sources import destroyed_by_block
from protocol.state import MemoryState
from protocol.state.stack import StackedState
from tests.node.api.test_history_story import build_story

WINDOW = 100


def test_destroyed_money_follows_apply_revert_and_branch_switches(tmp_path: Path) -> None:
    chain = build_story()
    store = LevelStore.open(tmp_path / "db")
    for block in chain.blocks:
        store.apply_block(block, validate_block(store, block), fork_window=WINDOW)
    head = chain.blocks[-1].number
    frank, dave = (sig_condition(chain.key(n)) for n in ("frank", "dave"))

    def index() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        return store.destroyed(frank, 0, head), store.destroyed(dave, 0, head)

    # frank's 0.50 was a source before the block (deleted by its delta); dave's change was created
    # and destroyed in the same block (absent from the delta)
    assert index() == ([(head - 1, 50)], [(head, 50)])
    before = StackedState(store)
    before.revert(chain.deltas[-1])
    assert destroyed_by_block(before, chain.blocks[-1], chain.deltas[-1]) == {dave: 50}
    assert store.destroyed(frank, head, head) == [] and store.destroyed(frank, head, head - 5) == []

    # a branch switch reverting both blocks and applying them again, in one batch
    stacked = StackedState(store)
    for number in (head, head - 1):
        stacked.revert(store.undo_record(number))  # type: ignore[arg-type]
    branch = []
    for block in chain.blocks[-2:]:
        delta = validate_block(stacked, block)
        stacked.apply(delta, block.hash)
        branch.append((block, delta))
    store.replace_branch(2, branch, fork_window=WINDOW)
    assert index() == ([(head - 1, 50)], [(head, 50)])

    # a switch to a shorter branch takes both away; `revert_head` takes one away
    store.replace_branch(2, [], fork_window=WINDOW)
    assert index() == ([], [])
    for block in chain.blocks[-2:]:
        store.apply_block(block, validate_block(store, block), fork_window=WINDOW)
    store.revert_head()
    assert index() == ([(head - 1, 50)], [])
    store.close()


def test_every_block_of_an_ordinary_history_destroys_nothing_unexplained() -> None:
    """No entry where BR_G106 did not act: in the story, only frank's and dave's."""
    chain = build_story()
    found = {}
    state = MemoryState()
    for block, delta in zip(chain.blocks, chain.deltas, strict=True):
        for conditions, cents in destroyed_by_block(state, block, delta).items():
            found[(block.number, conditions)] = cents
        state.apply(delta, block.hash)
    head = chain.blocks[-1].number
    assert found == {
        (head - 1, sig_condition(chain.key("frank"))): 50,
        (head, sig_condition(chain.key("dave"))): 50,
    }
