"""The addresses a node hands out: `--announce` ones, or its listen address with `0.0.0.0` expanded;
never an unspecified address, and loopback ones only to peers on loopback (`peers` answers,
identify). Heard unspecified addresses never enter the peer book.

Networked tests listen on 127.0.0.1 only; a peer elsewhere is simulated with a fake stream."""

from pathlib import Path
from typing import Any

import multiaddr
import pytest
import trio
from libp2p.identity.identify.pb.identify_pb2 import Identify

from node.commands.data import dev_block_zero
from node.commands.run import banner
from node.datadir import NodeConfig, read_config, write_config
from node.node import Node
from node.p2p.messages import PEERS, Request
from node.p2p.peers import (
    PeerBook,
    expand_unspecified,
    is_loopback_ip,
    is_unspecified,
    local_ipv4_addresses,
    shareable,
)
from tests.node.test_p2p_sync import datadir
from tests.node.test_peers import ME, FakeClock, address, new_id

PEER = new_id()
PUBLIC = f"/ip4/198.51.100.7/tcp/7777/p2p/{PEER}"
PRIVATE = f"/ip4/192.168.1.20/tcp/7777/p2p/{PEER}"
LOCAL = f"/ip4/127.0.0.1/tcp/7777/p2p/{PEER}"
ANY4 = f"/ip4/0.0.0.0/tcp/7777/p2p/{PEER}"
ANY6 = f"/ip6/::/tcp/7777/p2p/{PEER}"
DNS = f"/dns4/node.example.org/tcp/7777/p2p/{PEER}"


# --- the pure filters ----------------------------------------------------------------------------


def test_unspecified_addresses_are_never_shared() -> None:
    for to_loopback in (True, False):
        assert shareable([ANY4, ANY6, f"/ip6/::ffff:0.0.0.0/tcp/1/p2p/{PEER}"], to_loopback=to_loopback) == []
    assert is_unspecified(ANY4) and is_unspecified(ANY6)
    assert not is_unspecified(PUBLIC) and not is_unspecified(DNS) and not is_unspecified("junk")


def test_loopback_addresses_are_shared_with_loopback_peers_only() -> None:
    everything = [ANY4, LOCAL, PUBLIC, PRIVATE, DNS, f"/ip6/::1/tcp/7777/p2p/{PEER}"]
    assert shareable(everything, to_loopback=False) == [PUBLIC, PRIVATE, DNS]
    assert shareable(everything, to_loopback=True) == [LOCAL, PUBLIC, PRIVATE, DNS, everything[-1]]
    assert shareable([PUBLIC, PUBLIC, "not an address"], to_loopback=False) == [PUBLIC]


def test_remote_hosts_on_loopback() -> None:
    assert is_loopback_ip("127.0.0.1") and is_loopback_ip("127.8.9.1") and is_loopback_ip("::1")
    assert is_loopback_ip("::ffff:127.0.0.1")
    assert not is_loopback_ip("192.168.1.20") and not is_loopback_ip("::ffff:10.0.0.1")
    assert not is_loopback_ip("") and not is_loopback_ip("localhost")


def test_an_unspecified_listen_address_expands_to_the_machine_s_addresses() -> None:
    expanded = expand_unspecified(ANY4, ["192.168.1.20", "127.0.0.1", "::1", "0.0.0.0", "junk"])
    assert expanded == [PRIVATE, LOCAL]
    assert expand_unspecified(f"/ip6/::/tcp/7777/p2p/{PEER}", ["::1", "10.0.0.1"]) == [
        f"/ip6/::1/tcp/7777/p2p/{PEER}"
    ]
    assert expand_unspecified("/ip4/0.0.0.0/tcp/7777", ["10.0.0.1"]) == ["/ip4/10.0.0.1/tcp/7777"]
    assert expand_unspecified(PUBLIC, ["10.0.0.1"]) == [PUBLIC]
    interfaces = local_ipv4_addresses()
    assert interfaces[-1] == "127.0.0.1" and "0.0.0.0" not in interfaces


def test_heard_unspecified_addresses_never_enter_the_peer_book(tmp_path: Path) -> None:
    book = PeerBook(tmp_path, me=ME, clock=FakeClock())
    heard = [f"/ip4/0.0.0.0/tcp/7777/p2p/{new_id()}", f"/ip6/::/tcp/7777/p2p/{new_id()}"]
    assert book.heard(heard, source=new_id()) == 0
    assert not book.add(heard[0])
    assert book.entries == {} and book.due(set()) == []
    assert book.heard([address()], source=new_id()) == 1


def test_loopback_addresses_heard_from_a_peer_elsewhere_are_dropped(tmp_path: Path) -> None:
    book = PeerBook(tmp_path, me=ME, clock=FakeClock())
    local, public = address("127.0.0.1"), address("198.51.100.7")
    assert book.heard([local, public], source=new_id(), source_on_loopback=False) == 1
    assert [e.address for e in book.entries.values()] == [public]
    assert book.heard([local], source=new_id(), source_on_loopback=True) == 1


def test_announce_is_kept_in_the_configuration(tmp_path: Path) -> None:
    genesis = dev_block_zero(5, 1_700_000_000)
    write_config(tmp_path, NodeConfig(currency=genesis.currency, genesis=genesis.hash))
    assert read_config(tmp_path).announce == []  # the default, and juned.toml files written before it
    written = NodeConfig(currency=genesis.currency, genesis=genesis.hash, announce=[PUBLIC, DNS])
    write_config(tmp_path, written)
    assert read_config(tmp_path).announce == [PUBLIC, DNS]
    old = "\n".join(line for line in written.to_toml().splitlines() if not line.startswith("announce"))
    assert NodeConfig.from_toml(old, tmp_path / "juned.toml").announce == []


def test_the_banner_names_the_address_to_hand_out() -> None:
    lines = banner([LOCAL, PRIVATE])
    assert lines[0] == f"node listening on {PRIVATE}"
    assert f"juned init --join {PRIVATE}" in lines[1]
    assert any(LOCAL in line and "this machine only" in line for line in lines[2:])
    assert banner([LOCAL])[0] == f"node listening on {LOCAL}"
    assert "this machine only" in banner([LOCAL])[1] and "this machine only" not in lines[1]
    assert "no address" in banner([])[0]


# --- a running node ------------------------------------------------------------------------------


class FakeStream:
    """An identify stream from a peer at `remote` (no socket: tests stay on 127.0.0.1)."""

    def __init__(self, remote: tuple[str, int]) -> None:
        self.remote = remote
        self.written = b""
        self.muxed_conn = type("Conn", (), {"peer_id": PEER})()

    def get_remote_address(self) -> tuple[str, int]:
        return self.remote

    async def write(self, data: bytes) -> None:
        self.written += data

    async def close(self) -> None:
        return None


def identify_answer(stream: FakeStream) -> Any:
    data = stream.written
    length, shift, position = 0, 0, 0
    while True:  # the varint length prefix
        byte = data[position]
        length |= (byte & 0x7F) << shift
        position += 1
        shift += 7
        if not byte & 0x80:
            break
    message = Identify()
    message.ParseFromString(data[position : position + length])
    return message


def texts(raw: list[bytes]) -> list[str]:
    return [str(multiaddr.Multiaddr(r)) for r in raw]


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return datadir(tmp_path / "node", [dev_block_zero(5, 1_700_000_000)])


async def test_announced_addresses_are_what_peers_are_told(node_dir: Path) -> None:
    announce = ["/ip4/198.51.100.7/tcp/7777", "/ip4/127.0.0.1/tcp/7777", "/dns4/node.example.org/tcp/7777"]
    node = Node(node_dir, announce=announce, api="")
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            me = node.network.peer_id
            assert node.addresses() == [f"{a}/p2p/{me}" for a in announce]
            assert node.address == f"{announce[0]}/p2p/{me}"
            # a peer elsewhere is told the public addresses only, and gets no signed record
            remote = FakeStream(("192.0.2.9", 4001))
            await node.network._serve_identify(remote)
            told = identify_answer(remote)
            assert texts(list(told.listen_addrs)) == [announce[0], announce[2]]
            assert not told.signedPeerRecord
            assert str(multiaddr.Multiaddr(told.observed_addr)) == "/ip4/192.0.2.9/tcp/4001"
            # a peer on this machine is told everything
            local = FakeStream(("127.0.0.1", 4002))
            await node.network._serve_identify(local)
            assert texts(list(identify_answer(local).listen_addrs)) == announce
            assert node.network.advertised(to_loopback=False) == [
                f"{announce[0]}/p2p/{me}",
                f"{announce[2]}/p2p/{me}",
            ]
            node.stop()
    finally:
        node.close()


async def test_a_loopback_node_tells_loopback_peers_its_address_and_others_nothing(
    node_dir: Path, tmp_path: Path
) -> None:
    node = Node(node_dir, api="")
    asker = Node(datadir(tmp_path / "asker", [dev_block_zero(5, 1_700_000_000)]), api="")
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            await nursery.start(asker.run)
            assert node.addresses() == [node.address] and "/ip4/127.0.0.1/" in node.address
            assert node.network.advertised(to_loopback=False) == []
            await asker.connect(node.address)
            with trio.fail_after(10):
                while not asker.peers():
                    await trio.sleep(0.05)
            told = await asker.network.ask(asker.peers()[0], Request(PEERS))
            assert told[0] == node.address  # asked over 127.0.0.1: a loopback peer
            assert asker.network._on_loopback(asker.peers()[0])  # so what it tells is heard in full
            remote = FakeStream(("192.0.2.9", 4001))
            await node.network._serve_identify(remote)
            assert list(identify_answer(remote).listen_addrs) == []
            node.stop()
            asker.stop()
    finally:
        node.close()
        asker.close()


def test_the_host_never_reports_an_unspecified_address(node_dir: Path) -> None:
    node = Node(node_dir, api="")
    try:
        reported = node.network._reported_addresses([multiaddr.Multiaddr("/ip4/0.0.0.0/tcp/7777")])
        texts_reported = [str(a) for a in reported]
        assert "/ip4/0.0.0.0/tcp/7777" not in texts_reported
        assert texts_reported[-1] == "/ip4/127.0.0.1/tcp/7777" and len(texts_reported) >= 1
    finally:
        node.close()
