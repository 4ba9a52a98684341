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
from node.p2p.messages import BLOCKS, DIGESTS, MAX_COUNT, PeerError, Request, Status
from node.p2p.sync import STATUS, STATUS_PROTOCOL, request, sync_protocol
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

    async def status(self, peer: Peer) -> Status:
        status: Status = await request(self.host, peer.id, STATUS_PROTOCOL, Request(STATUS), STATUS)
        return status

    async def blocks(self, peer: Peer, genesis: Hash, start: int, count: int) -> list[bytes]:
        """Raw blocks `start`… (fewer than `count` when the frame is full or the chain ends)."""
        count = min(count, MAX_COUNT)
        blocks: list[bytes] = await request(
            self.host, peer.id, sync_protocol(genesis), Request(BLOCKS, start, count), BLOCKS
        )
        return blocks

    async def digests(self, peer: Peer, genesis: Hash, start: int, count: int) -> list[Hash]:
        """The state digests the peer recorded after blocks `start`…"""
        digests: list[Hash] = await request(
            self.host,
            peer.id,
            sync_protocol(genesis),
            Request(DIGESTS, start, min(count, MAX_COUNT)),
            DIGESTS,
        )
        return digests

    async def download(self, genesis: Hash, until: int, *, chunk: int = 200) -> AsyncIterator[bytes]:
        """Blocks 0…`until` in order, each range asked of the next peer in turn (falling back to the
        others when one fails), so no single peer serves the whole chain."""
        number = 0
        turn = 0
        while number <= until:
            wanted = min(chunk, until - number + 1)
            errors: list[str] = []
            for attempt in range(len(self.peers)):
                peer = self.peers[(turn + attempt) % len(self.peers)]
                try:
                    raw_blocks = await self.blocks(peer, genesis, number, wanted)
                except Exception as exc:  # an error answer, a timeout, a broken stream: next peer
                    errors.append(f"{peer.address}: {exc}")
                    continue
                if raw_blocks:
                    break
                errors.append(f"{peer.address}: no block {number}")
            else:
                raise PeerError(f"no peer served block {number}: " + "; ".join(errors))
            turn += 1
            for raw in raw_blocks[:wanted]:
                yield raw
                number += 1


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
