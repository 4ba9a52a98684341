"""The sync protocol's messages: canonical CBOR arrays, strictly decoded, every size capped.

request  = [0]                          status: the peer's genesis and head
         | [1, from_number, count]      blocks: canonical block bytes from `from_number`
         | [2, from_number, count]      hashes: block hashes from `from_number` (fork search)
         | [3]                          peers: addresses of peers the node knows (its own first)
         | [4, from_number, count]      digests: the state digest after each block (cross-checks)
response = [0, genesis, head_number, head_hash, head_median_time, head_digest]
         | [1, [block bytes …]]         as many as fit in one frame (at least one if any)
         | [2, [hash …]]
         | [3, [multiaddr text …]]
         | [4, [digest …]]
         | [9, reason]                  the request could not be served
"""

from dataclasses import dataclass
from typing import Any

from protocol.crypto import Hash
from protocol.encoding import decode, encode
from protocol.errors import SchemaError
from protocol.fields import read_array, read_bytes, read_hash, read_int, read_list, read_text

#: One frame on the wire (py-libp2p reads frames of up to ~1 MiB reliably, libp2p-notes §4).
MAX_FRAME = 1_000_000
MAX_REQUEST = 64
#: Most blocks or hashes one request may ask for.
MAX_COUNT = 500
#: Most addresses one peers answer holds, and the longest address.
MAX_PEERS = 64
MAX_ADDRESS = 200

STATUS, BLOCKS, HASHES, PEERS, DIGESTS, ERROR = 0, 1, 2, 3, 4, 9


@dataclass(frozen=True)
class Status:
    genesis: Hash
    head_number: int
    head_hash: Hash
    head_median_time: int
    head_digest: Hash


@dataclass(frozen=True)
class Request:
    kind: int
    start: int = 0
    count: int = 0

    def to_bytes(self) -> bytes:
        return encode([self.kind] if self.kind in (STATUS, PEERS) else [self.kind, self.start, self.count])


def decode_request(data: bytes) -> Request:
    value = decode(data, max_size=MAX_REQUEST)
    if not isinstance(value, list) or not value or type(value[0]) is not int:
        raise SchemaError("request: expected [kind, …]")
    if value[0] in (STATUS, PEERS):
        read_array(value, 1, "status or peers request")
        return Request(value[0])
    if value[0] in (BLOCKS, HASHES, DIGESTS):
        _kind, start, count = read_array(value, 3, "range request")
        return Request(
            value[0],
            read_int(start, "request.from"),
            read_int(count, "request.count", minimum=1, maximum=MAX_COUNT),
        )
    raise SchemaError(f"request: unknown kind {value[0]}")


def encode_status(status: Status) -> bytes:
    return encode(
        [
            STATUS,
            status.genesis,
            status.head_number,
            status.head_hash,
            status.head_median_time,
            status.head_digest,
        ]
    )


def encode_blocks(raw_blocks: list[bytes]) -> bytes:
    return encode([BLOCKS, raw_blocks])


def encode_hashes(hashes: list[bytes], kind: int = HASHES) -> bytes:
    return encode([kind, hashes])


def encode_peers(addresses: list[str]) -> bytes:
    return encode([PEERS, [a for a in addresses if len(a) <= MAX_ADDRESS][:MAX_PEERS]])


def encode_error(reason: str) -> bytes:
    return encode([ERROR, reason[:200]])


class PeerError(Exception):
    """The peer answered with an error, or with something that is not an answer."""


def decode_response(data: bytes, expected: int) -> Any:
    """The payload of a response of kind `expected`; raise `PeerError` or `DecodeError` otherwise."""
    value = decode(data, max_size=MAX_FRAME)
    if not isinstance(value, list) or not value or type(value[0]) is not int:
        raise SchemaError("response: expected [kind, …]")
    if value[0] == ERROR:
        _kind, reason = read_array(value, 2, "error response")
        raise PeerError(read_text(reason, "error.reason", max_length=200))
    if value[0] != expected:
        raise SchemaError(f"response: kind {value[0]}, expected {expected}")
    if expected == STATUS:
        _kind, genesis, number, head, median, digest = read_array(value, 6, "status")
        return Status(
            read_hash(genesis, "status.genesis"),
            read_int(number, "status.head_number"),
            read_hash(head, "status.head_hash"),
            read_int(median, "status.head_median_time"),
            read_hash(digest, "status.head_digest"),
        )
    _kind, items = read_array(value, 2, "list response")
    if expected == PEERS:
        addresses = read_list(items, "peers", max_items=MAX_PEERS)
        return [read_text(a, f"peers[{n}]", max_length=MAX_ADDRESS) for n, a in enumerate(addresses)]
    entries = read_list(items, "range response.items", max_items=MAX_COUNT)
    if expected in (HASHES, DIGESTS):
        return [read_hash(h, f"hashes[{n}]") for n, h in enumerate(entries)]
    return [
        read_bytes(b, f"blocks[{n}]", size=len(b)) if type(b) is bytes else _not_bytes(n)
        for n, b in enumerate(entries)
    ]


def _not_bytes(position: int) -> bytes:
    raise SchemaError(f"blocks[{position}]: expected a byte string")
