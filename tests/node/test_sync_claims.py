"""Heads are claims, not facts: a newcomer syncs from honest peers while a liar claims a head of
2^62 and a silent peer never answers. The liar is banned, nothing is planned from its claim, and the
silent peer costs no more than its deadlines."""

from pathlib import Path

import pytest

from bench._chain import BenchChain
from node.node import Node
from protocol.documents import Block
from tests.node.hostile import answer_sync, attacker, keep_silent, lying_status
from tests.node.test_network import copy_of, running
from tests.node.test_p2p_sync import datadir, wait_until


@pytest.fixture(scope="module")
def chain() -> list[Block]:
    built = BenchChain(8)
    for _ in range(400):
        head = built.state.head()
        assert head is not None
        built.apply(built.forge([], head.time + 10))
    return built.blocks


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory, chain: list[Block]) -> Path:
    return datadir(tmp_path_factory.mktemp("full") / "node", chain)


async def test_a_liar_and_a_silent_peer_do_not_stop_a_sync(
    tmp_path: Path, full: Path, chain: list[Block]
) -> None:
    honest = [Node(copy_of(full, tmp_path / f"honest{i}")) for i in range(2)]
    newcomer = Node(datadir(tmp_path / "newcomer", chain[:1]))
    async with attacker(tmp_path / "liar") as liar, attacker(tmp_path / "silent") as silent:
        answer_sync(liar.host, chain[0], lying_status(chain[0]))
        keep_silent(silent.host, chain[0])
        async with running([*honest, newcomer]):
            await newcomer.connect(f"{liar.host.get_addrs()[0]}")
            await newcomer.connect(f"{silent.host.get_addrs()[0]}")
            for node in honest:
                await newcomer.connect(node.address)
            await wait_until(lambda: newcomer.head() == honest[0].head(), 60, "the newcomer is in sync")
            await wait_until(lambda: newcomer.network.is_banned(liar.peer_id), 30, "the liar is banned")
            assert "announced a head" in (newcomer.network.misbehaviour.ban_reason(liar.peer_id) or "")
            assert not newcomer.network.is_banned(silent.peer_id)  # slow is not guilty (yet)
            served = newcomer.syncer.progress.served_by
            assert str(liar.peer_id) not in served and str(silent.peer_id) not in served
