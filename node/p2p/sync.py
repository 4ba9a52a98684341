"""The sync protocol over libp2p: one stream per request, one framed request, one framed answer.

Every read is bounded in size (the frame cap, checked before allocation) and in time, so a silent
or lying peer costs a timeout, never a stuck task. The protocol id carries the currency's block 0
hash, so peers of another currency do not even share the protocol.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import trio
from libp2p.custom_types import TProtocol
from libp2p.io.msgio import VarIntLengthMsgReadWriter

from node.chain import ChainManager
from node.p2p.messages import (
    BLOCKS,
    DIGESTS,
    HASHES,
    MAX_FRAME,
    PEERS,
    STATUS,
    Request,
    Status,
    decode_request,
    decode_response,
    encode_blocks,
    encode_error,
    encode_hashes,
    encode_peers,
    encode_status,
)
from protocol.crypto import Hash
from protocol.errors import DecodeError

REQUEST_TIMEOUT = 10.0


#: Answered by every June node whatever its currency, so that a peer of another currency is told
#: apart (and dropped) rather than merely failing to negotiate the sync protocol.
STATUS_PROTOCOL = TProtocol("/june/status/1")


def sync_protocol(genesis: Hash) -> TProtocol:
    return TProtocol(f"/june/{genesis.hex()[:16]}/sync/1")


def local_status(chain: ChainManager) -> Status:
    pointer = chain.store.head_pointer()
    head = chain.store.head()
    assert pointer is not None and head is not None and chain.genesis_hash is not None
    return Status(chain.genesis_hash, pointer[0], pointer[1], head.median_time, pointer[2])


def answer(chain: ChainManager, request: Request, addresses: Callable[[], list[str]] = list) -> bytes:
    """The response to one request, from the store (and the peer book for `PEERS`)."""
    if request.kind == STATUS:
        return encode_status(local_status(chain))
    if request.kind == PEERS:
        return encode_peers(addresses())
    pointer = chain.store.head_pointer()
    last = -1 if pointer is None else pointer[0]
    end = min(last, request.start + request.count - 1)
    if request.kind == HASHES:
        hashes = [chain.store.block_hash(n) for n in range(request.start, end + 1)]
        return encode_hashes([h for h in hashes if h is not None])
    if request.kind == DIGESTS:
        digests = [chain.store.digest_at(n) for n in range(request.start, end + 1)]
        return encode_hashes([d for d in digests if d is not None], DIGESTS)
    blocks: list[bytes] = []
    size = 16
    for number in range(request.start, end + 1):
        raw = chain.store.block_bytes(number)
        if raw is None or (blocks and size + len(raw) + 8 > MAX_FRAME):
            break
        blocks.append(raw)
        size += len(raw) + 8
    return encode_blocks(blocks)


class SyncServer:
    """Serves status, blocks and hashes to peers; a malformed request gets an error and a reset."""

    def __init__(
        self,
        chain: ChainManager,
        on_fault: Callable[[Any, str], Awaitable[None]],
        addresses: Callable[[], list[str]] = list,
    ) -> None:
        self.chain = chain
        self.on_fault = on_fault
        self.addresses = addresses

    async def handle_status(self, stream: Any) -> None:
        """The currency-independent protocol: status requests only."""
        await self.handle(stream, status_only=True)

    async def handle(self, stream: Any, *, status_only: bool = False) -> None:
        frames = VarIntLengthMsgReadWriter(stream, max_msg_size=MAX_FRAME)
        try:
            with trio.fail_after(REQUEST_TIMEOUT):
                raw = await frames.read_msg()
                try:
                    request = decode_request(raw)
                except DecodeError as exc:
                    await frames.write_msg(encode_error(f"malformed request: {exc}"))
                    await stream.reset()
                    await self.on_fault(stream.muxed_conn.peer_id, f"malformed request: {exc}")
                    return
                if status_only and request.kind != STATUS:
                    await frames.write_msg(encode_error("this protocol answers status requests only"))
                else:
                    await frames.write_msg(answer(self.chain, request, self.addresses))
            await stream.close()
        except Exception:  # a timeout, a reset or a broken stream: this request is over
            await _reset(stream)


async def request(host: Any, peer_id: Any, protocol: TProtocol, message: Request, expected: int) -> Any:
    """Ask `peer_id` one thing; raise `PeerError`, `DecodeError` or `trio.TooSlowError` on failure."""
    with trio.fail_after(REQUEST_TIMEOUT):
        stream = await host.new_stream(peer_id, [protocol])
        try:
            frames = VarIntLengthMsgReadWriter(stream, max_msg_size=MAX_FRAME)
            await frames.write_msg(message.to_bytes())
            return decode_response(await frames.read_msg(), expected)
        finally:
            await _reset(stream)


async def _reset(stream: Any) -> None:
    try:
        await stream.reset()
    except Exception:  # already closed by the other side
        return


__all__ = [
    "BLOCKS",
    "DIGESTS",
    "HASHES",
    "PEERS",
    "STATUS",
    "STATUS_PROTOCOL",
    "SyncServer",
    "request",
    "sync_protocol",
]
