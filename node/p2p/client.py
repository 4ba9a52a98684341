"""A store-less libp2p client of June nodes: status, blocks, hashes and state digests.

The auditor uses it to download a chain from peers it does not trust (everything it receives is
verified afterwards) and to cross-check what peers claim at given heights. It has an ephemeral
identity and serves nothing.
"""

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import multiaddr
import trio
from libp2p.identity_utils import create_identity_from_seed
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.p2p.host import make_host
from node.p2p.messages import BLOCKS, DIGESTS, HASHES, MAX_COUNT, STATUS, Request, Status, decode_response
from node.p2p.network import REQUEST_TIMEOUT, STATUS_PROTOCOL, exchange, sync_protocol
from protocol.crypto import Hash

CONNECT_TIMEOUT = 15.0


class UnreachablePeer(Exception):
    """No connection could be made to a peer address."""


@dataclass(frozen=True)
class Peer:
    address: str
    id: Any


class PeerClient:
    def __init__(self, host: Any, peers: list[Peer]) -> None:
        self.host = host
        self.peers = peers

    async def _ask(self, peer: Peer, protocol: Any, request: Request) -> Any:
        """Raises `PeerError`, `DecodeError`, `trio.TooSlowError` or a stream error on failure."""
        raw = await exchange(self.host, peer.id, protocol, request.to_bytes(), REQUEST_TIMEOUT)
        return decode_response(raw, request.kind)

    async def status(self, peer: Peer) -> Status:
        status: Status = await self._ask(peer, STATUS_PROTOCOL, Request(STATUS))
        return status

    async def _range(self, peer: Peer, genesis: Hash, kind: int, start: int, count: int) -> list[Any]:
        answer: list[Any] = await self._ask(
            peer, sync_protocol(genesis), Request(kind, start, min(count, MAX_COUNT))
        )
        return answer

    async def blocks(self, peer: Peer, genesis: Hash, start: int, count: int) -> list[bytes]:
        """Raw blocks `start`… (fewer than `count` when the frame is full or the chain ends)."""
        return await self._range(peer, genesis, BLOCKS, start, count)

    async def hashes(self, peer: Peer, genesis: Hash, start: int, count: int) -> list[Hash]:
        """The hashes of the peer's blocks `start`…"""
        return await self._range(peer, genesis, HASHES, start, count)

    async def digests(self, peer: Peer, genesis: Hash, start: int, count: int) -> list[Hash]:
        """The state digests the peer recorded after blocks `start`…"""
        return await self._range(peer, genesis, DIGESTS, start, count)


@asynccontextmanager
async def connect_to(addresses: Sequence[str]) -> AsyncIterator[PeerClient]:
    """A client connected to every address it can reach (raises if it reaches none)."""
    host = make_host(create_identity_from_seed(os.urandom(32)))
    async with host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
        peers: list[Peer] = []
        failures: list[str] = []
        for address in addresses:
            try:
                info = info_from_p2p_addr(multiaddr.Multiaddr(address))
                with trio.fail_after(CONNECT_TIMEOUT):
                    await host.connect(info)
                peers.append(Peer(address, info.peer_id))
            except Exception as exc:  # a malformed address, a refused or silent peer
                failures.append(f"{address}: {exc or type(exc).__name__}")
        if not peers:
            raise UnreachablePeer("no peer could be reached: " + "; ".join(failures))
        yield PeerClient(host, peers)
