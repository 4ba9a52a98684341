"""What a node answers to the sync protocol's requests, read from its store.

The protocol itself (streams, frames, deadlines, offences) belongs to `node.p2p.network`; this
module only turns a decoded request into the encoded answer.
"""

from collections.abc import Callable

from node.chain import ChainManager
from node.p2p.messages import (
    DIGESTS,
    HASHES,
    MAX_FRAME,
    PEERS,
    STATUS,
    Request,
    Status,
    encode_blocks,
    encode_hashes,
    encode_peers,
    encode_status,
)


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
