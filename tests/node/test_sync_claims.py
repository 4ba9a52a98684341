"""Heads are claims, not facts: a newcomer syncs from honest peers while a liar claims a head of
2^62 and a silent peer never answers. The liar is banned, nothing is planned from its claim, and the
silent peer costs no more than its deadlines."""

import os
from pathlib import Path
from typing import Any

import pytest
import trio
from libp2p.io.msgio import VarIntLengthMsgReadWriter

from bench._chain import BenchChain
from node.node import Node
from node.p2p.messages import (
    BLOCKS,
    MAX_FRAME,
    PEERS,
    STATUS,
    Status,
    decode_request,
    encode_blocks,
    encode_hashes,
    encode_peers,
    encode_status,
)
from node.p2p.network import STATUS_PROTOCOL, sync_protocol
from protocol.documents import Block
from tests.node.hostile import Attacker, attacker
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


def lie(peer: Attacker, genesis: Block) -> None:
    async def answer(stream: Any) -> None:
        frames = VarIntLengthMsgReadWriter(stream, max_msg_size=MAX_FRAME)
        try:
            request = decode_request(await frames.read_msg())
            if request.kind == STATUS:
                claim = Status(genesis.hash, 2**62, os.urandom(32), genesis.median_time, os.urandom(32))
                await frames.write_msg(encode_status(claim))
            elif request.kind == PEERS:
                await frames.write_msg(encode_peers([]))
            else:
                await frames.write_msg(encode_blocks([]) if request.kind == BLOCKS else encode_hashes([]))
        except Exception:
            await stream.reset()

    for protocol in (STATUS_PROTOCOL, sync_protocol(genesis.hash)):
        peer.serve(str(protocol), answer)


def keep_silent(peer: Attacker, genesis: Block) -> None:
    async def never(_stream: Any) -> None:
        await trio.sleep_forever()

    for protocol in (STATUS_PROTOCOL, sync_protocol(genesis.hash)):
        peer.serve(str(protocol), never)


async def test_a_liar_and_a_silent_peer_do_not_stop_a_sync(
    tmp_path: Path, full: Path, chain: list[Block]
) -> None:
    honest = [Node(copy_of(full, tmp_path / f"honest{i}")) for i in range(2)]
    newcomer = Node(datadir(tmp_path / "newcomer", chain[:1]))
    async with attacker(tmp_path / "liar") as liar, attacker(tmp_path / "silent") as silent:
        lie(liar, chain[0])
        keep_silent(silent, chain[0])
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
