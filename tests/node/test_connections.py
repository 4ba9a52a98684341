"""Connections a node accepts: inbound peers are capped, banned peers are refused when they dial in."""

import contextlib
from pathlib import Path

import pytest

from node.clock import Clock
from node.commands.data import dev_block_zero
from node.node import Node
from tests.node.hostile import attacker
from tests.node.test_network import running
from tests.node.test_p2p_sync import datadir, wait_until


async def test_inbound_peers_beyond_the_cap_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("node.p2p.network.MAX_INBOUND", 2)
    node = Node(datadir(tmp_path / "node", [dev_block_zero(5, Clock().now() - 60)]))
    async with (
        running([node]),
        attacker(tmp_path / "a") as first,
        attacker(tmp_path / "b") as second,
        attacker(tmp_path / "c") as third,
    ):
        for peer in (first, second):
            await peer.connect(node.address)
        await wait_until(lambda: len(node.peers()) == 2, 20, "two inbound peers")
        with contextlib.suppress(Exception):  # it may see its connection open, then closed
            await third.connect(node.address)
        await wait_until(lambda: not node.network.is_connected(third.peer_id), 20, "the third is refused")
        assert node.network.is_connected(first.peer_id) and node.network.is_connected(second.peer_id)


async def test_a_banned_peer_is_refused_when_it_dials_again(tmp_path: Path) -> None:
    node = Node(datadir(tmp_path / "node", [dev_block_zero(5, Clock().now() - 60)]))
    async with running([node]), attacker(tmp_path / "a") as peer:
        await peer.connect(node.address)
        await wait_until(lambda: node.network.is_connected(peer.peer_id), 20, "connected")
        node.network.ban(peer.peer_id, "a test")
        await wait_until(lambda: not node.network.is_connected(peer.peer_id), 20, "cut off")
        with contextlib.suppress(Exception):
            await peer.connect(node.address)
        await wait_until(lambda: not node.network.is_connected(peer.peer_id), 20, "refused again")
        assert node.network.misbehaviour.ban_reason(peer.peer_id) == "a test"
