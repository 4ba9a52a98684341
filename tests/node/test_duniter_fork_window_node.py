"""The node's chain follows the fork window measured from the branch's head (issue 14 item 4,
rules.md §6.7): Duniter `test/fast/fork-resolution-3-3.ts` told as chain stories, window 5."""

from pathlib import Path

from node.chain import ChainManager, Outcome
from node.store import LevelStore
from tests.protocol.chain_builder import Chain, chain_parameters


def forked(common: int, main: int, branch: int) -> tuple[Chain, Chain]:
    """Main chain and branch sharing blocks 0…`common`, then `main` and `branch` more blocks each."""
    params = chain_parameters(fork_window_size=5)
    a, b = Chain(founders=4, params=params), Chain(founders=4, params=params)
    for _ in range(common):
        a.write()
        b.write()
    for chain, count, issuer in ((a, main, "alice"), (b, branch, "bob")):
        for _ in range(count):
            head = chain.state.head()
            assert head is not None
            chain.write(issuer=issuer, time=head.median_time + 200)
    return a, b


def load(tmp_path: Path, chain: Chain) -> ChainManager:
    manager = ChainManager(LevelStore.open(tmp_path / "db"), genesis_hash=chain.blocks[0].hash)
    assert {manager.add_block(block).outcome for block in chain.blocks} == {Outcome.APPLIED}
    return manager


def test_should_refuse_a_fork_right_on_the_limit_of_the_fork_window(tmp_path: Path) -> None:
    """B10 … B13 and C11 … C16 forked after B10: C11 … C15 kept, C16 (16 − 10 > 5) refused."""
    a, b = forked(10, 3, 6)
    manager = load(tmp_path, a)
    outcomes = [manager.add_block(block).outcome for block in b.blocks[11:]]
    assert outcomes == [Outcome.CANDIDATE] * 5 + [Outcome.TOO_OLD]
    assert manager.head()[1] == a.blocks[13].hash  # type: ignore[index]


def test_should_switch_on_a_valid_fork(tmp_path: Path) -> None:
    """The valid counterpart: B11 … B13 and C12 … C16 forked after B11 (16 − 11 = 5): switch."""
    a, b = forked(11, 2, 5)
    manager = load(tmp_path, a)
    outcomes = [manager.add_block(block).outcome for block in b.blocks[12:]]
    assert outcomes == [Outcome.CANDIDATE] * 4 + [Outcome.SWITCHED]
    assert manager.head()[1] == b.blocks[16].hash  # type: ignore[index]
