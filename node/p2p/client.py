"""A store-less libp2p client of June nodes: status, blocks, hashes and state digests.

The auditor uses it to download a chain from peers it does not trust (everything it receives is
verified afterwards) and to cross-check what peers claim at given heights; `juned init --join`
uses it to fetch a peer's block 0 (`fetch_block_zero`). It has an ephemeral identity and serves
nothing.
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
from node.p2p.peers import peer_id_of
from protocol.crypto import Hash
from protocol.documents import Block

CONNECT_TIMEOUT = 15.0
#: `fetch_block_zero` as a whole (dial, status, block 0): an operator waits this long at most.
JOIN_TIMEOUT = 20.0


class UnreachablePeer(Exception):
    """No connection could be made to a peer address."""


class PeerAnswerError(Exception):
    """A peer was reached, but did not answer as a June node does (silence, an error, junk)."""


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


def _one_line(exc: BaseException) -> str:
    """py-libp2p's errors can span lines (nested causes); an operator gets the first one."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@asynccontextmanager
async def connect_to(
    addresses: Sequence[str], *, connect_timeout: float = CONNECT_TIMEOUT
) -> AsyncIterator[PeerClient]:
    """A client connected to every address it can reach (raises if it reaches none)."""
    host = make_host(create_identity_from_seed(os.urandom(32)))
    async with host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
        peers: list[Peer] = []
        failures: list[str] = []
        for address in addresses:
            try:
                info = info_from_p2p_addr(multiaddr.Multiaddr(address))
                with trio.fail_after(connect_timeout):
                    await host.connect(info)
                peers.append(Peer(address, info.peer_id))
            except trio.TooSlowError:
                failures.append(f"{address}: no answer within {connect_timeout:.0f} s")
            except Exception as exc:  # a malformed address, a refused or silent peer
                failures.append(f"{address}: {_one_line(exc)}")
        if not peers:
            raise UnreachablePeer("no peer could be reached: " + "; ".join(failures))
        yield PeerClient(host, peers)


async def fetch_block_zero(address: str, *, timeout: float = JOIN_TIMEOUT) -> tuple[Status, Block]:
    """The status and block 0 of the peer at `address` (a full `…/tcp/PORT/p2p/PEER_ID` address),
    within `timeout` seconds in all.

    The block is only decoded and checked to be the block 0 the peer's status names: whether it is
    a *valid* block 0 is for the caller to check (`protocol.rules.block.validate_block`), as the
    peer is not trusted. The peer's genesis hash is learnt from its status (`/june/status/1`,
    answered whatever the currency), then block 0 is asked on that currency's sync protocol, the
    request any node answers for a block range. Raises `UnreachablePeer` (no connection) or
    `PeerAnswerError` (silence, an error, junk), each with a one-line message."""
    if peer_id_of(address) is None:
        raise UnreachablePeer(f"{address} is not a full peer address (/ip4/HOST/tcp/PORT/p2p/PEER_ID)")
    try:
        status, raw = await _ask_block_zero(address, timeout)
    except BaseException as exc:
        # libp2p's nurseries wrap what is raised in their body: find the real error
        leaf = exc
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        if isinstance(leaf, UnreachablePeer | PeerAnswerError):
            raise leaf from None
        if isinstance(leaf, trio.TooSlowError):
            raise PeerAnswerError(f"{address} did not answer within {timeout:.0f} s") from None
        if isinstance(leaf, Exception):
            raise PeerAnswerError(f"{address}: {_one_line(leaf)}") from exc
        raise
    if not raw:
        raise PeerAnswerError(f"{address} did not send its block 0")
    try:
        block = Block.from_bytes(raw[0])
    except Exception as exc:  # DecodeError, or anything a hostile encoding provokes
        raise PeerAnswerError(f"{address} sent a block 0 that does not decode: {_one_line(exc)}") from exc
    if block.number != 0 or block.hash != status.genesis:
        raise PeerAnswerError(f"{address} sent a block that is not the block 0 its status names")
    return status, block


async def _ask_block_zero(address: str, timeout: float) -> tuple[Status, list[bytes]]:
    with trio.fail_after(timeout):
        async with connect_to([address], connect_timeout=timeout) as client:
            peer = client.peers[0]
            try:
                status = await client.status(peer)
                return status, await client.blocks(peer, status.genesis, 0, 1)
            except trio.TooSlowError:
                raise PeerAnswerError(f"{address} did not answer within {REQUEST_TIMEOUT:.0f} s") from None
            except Exception as exc:  # an error answer, undecodable bytes, a reset stream
                raise PeerAnswerError(f"{address} did not answer as a June node: {_one_line(exc)}") from exc
    raise AssertionError("unreachable")  # pragma: no cover  (mypy: the context manager may swallow)
