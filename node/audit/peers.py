"""Auditing from peers: download a chain over libp2p, then verify it like any chain file; and
cross-check what peers claim against the verified chain.

Nothing a peer says is trusted. The download follows the peer with the highest head (the others
serve when it fails) and writes a chain file; the replay then checks every block of it. The
cross-check asks each peer for its block hashes and state digests at sampled heights and names the
peers that disagree with the verified chain (another branch, another state, another currency).
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import trio

from node.audit.source import AuditSourceError
from node.chainfile import write_chain
from node.p2p.client import Peer, PeerClient, UnreachablePeer, connect_to
from protocol.crypto import Hash, hash_hex
from protocol.documents import Block

T = TypeVar("T")
CHUNK = 200
#: Heights compared in a cross-check, at most (evenly spread, the head always included).
SAMPLES = 64


@dataclass
class PeerVerdict:
    address: str
    head: int | None = None
    agrees: bool = False
    reason: str = ""
    compared: list[int] = field(default_factory=list)


def download(
    addresses: Sequence[str],
    path: Path,
    *,
    genesis: Hash | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Write the chain of the best peer to `path` (a chain file); return a label for the report."""
    try:
        return _run_trio(_download, list(addresses), path, genesis, progress)
    except UnreachablePeer as exc:
        raise AuditSourceError(str(exc)) from exc


async def _download(
    addresses: list[str], path: Path, genesis: Hash | None, progress: Callable[[int, int], None] | None
) -> str:
    async with connect_to(addresses) as client:
        statuses = {}
        for peer in client.peers:
            with contextlib.suppress(Exception):  # a peer that does not answer is not a source
                statuses[peer.address] = await client.status(peer)
        candidates = [p for p in client.peers if p.address in statuses]
        if genesis is not None:
            candidates = [p for p in candidates if statuses[p.address].genesis == genesis]
        if not candidates:
            raise AuditSourceError("no reachable peer serves " + ("that currency" if genesis else "a chain"))
        best = max(candidates, key=lambda p: statuses[p.address].head_number)
        chosen = statuses[best.address]
        ordered = [
            best,
            *(p for p in candidates if p != best and statuses[p.address].genesis == chosen.genesis),
        ]
        target = chosen.head_number
        blocks: list[bytes] = []
        fetcher = PeerClient(client.host, ordered)
        async for raw in _in_order(fetcher, chosen.genesis, target):
            blocks.append(raw)
            if progress is not None:
                progress(len(blocks), target + 1)
        write_chain(path, iter(blocks))
        return f"{len(blocks)} blocks downloaded from {best.address}" + (
            f" (and {len(ordered) - 1} other peer(s) as fallback)" if len(ordered) > 1 else ""
        )


async def _in_order(client: PeerClient, genesis: Hash, until: int) -> AsyncIterator[bytes]:
    """Blocks 0…until, each range from the first peer that serves it (the best one first)."""
    number = 0
    while number <= until:
        raw_blocks: list[bytes] = []
        errors = []
        for peer in client.peers:
            try:
                raw_blocks = await client.blocks(peer, genesis, number, min(CHUNK, until - number + 1))
            except Exception as exc:  # an error answer, a timeout: the next peer
                errors.append(f"{peer.address}: {exc}")
                continue
            if raw_blocks:
                break
        if not raw_blocks:
            raise AuditSourceError(f"no peer served block {number}: " + "; ".join(errors))
        for raw in raw_blocks:
            yield raw
            number += 1


def _run_trio(function: Callable[..., Awaitable[T]], *args: object) -> T:
    """`trio.run`, with the first real error out of the exception groups libp2p's nurseries wrap
    it in (so the caller can tell an unreachable peer from a damaged chain)."""
    try:
        return trio.run(function, *args)
    except BaseExceptionGroup as group:
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        raise leaf from group


def sample_heights(head: int) -> list[int]:
    step = max(1, head // SAMPLES)
    return sorted({*range(0, head + 1, step), head})


Verified = list[tuple[Hash, Hash]]  # (block hash, state digest) at each height of the verified chain


def verified_index(raw_blocks: Iterable[bytes]) -> Verified:
    index: Verified = []
    for raw in raw_blocks:
        block = Block.from_bytes(raw)
        index.append((block.hash, block.state_digest))
    return index


def cross_check(addresses: Sequence[str], verified: Verified) -> list[PeerVerdict]:
    """Compare each peer's hashes and digests at sampled heights with the verified chain."""
    try:
        return _run_trio(_cross_check, list(addresses), verified)
    except UnreachablePeer as exc:
        return [PeerVerdict(address, reason=f"unreachable: {exc}") for address in addresses]


async def _cross_check(addresses: list[str], blocks: Verified) -> list[PeerVerdict]:
    verdicts = {address: PeerVerdict(address, reason="unreachable") for address in addresses}
    genesis = blocks[0][0]
    async with connect_to(addresses) as client:
        for peer in client.peers:
            verdicts[peer.address] = await _judge(client, peer, genesis, blocks)
    return [verdicts[a] for a in addresses]


async def _judge(client: PeerClient, peer: Peer, genesis: Hash, blocks: Verified) -> PeerVerdict:
    verdict = PeerVerdict(peer.address)
    try:
        status = await client.status(peer)
    except Exception as exc:
        verdict.reason = f"no status: {exc}"
        return verdict
    verdict.head = status.head_number
    if status.genesis != genesis:
        verdict.reason = f"another currency (block 0 {hash_hex(status.genesis)[:16]}…)"
        return verdict
    top = min(status.head_number, len(blocks) - 1)
    try:
        for height in sample_heights(top):
            [theirs] = await client.hashes(peer, genesis, height, 1)
            [digest] = await client.digests(peer, genesis, height, 1)
            verdict.compared.append(height)
            our_hash, our_digest = blocks[height]
            if theirs != our_hash:
                verdict.reason = (
                    f"block {height} differs: {hash_hex(theirs)[:16]}…, verified {hash_hex(our_hash)[:16]}…"
                )
                return verdict
            if digest != our_digest:
                verdict.reason = f"state digest after block {height} differs"
                return verdict
    except Exception as exc:
        verdict.reason = f"stopped answering: {exc}"
        return verdict
    verdict.agrees = True
    behind = len(blocks) - 1 - status.head_number
    verdict.reason = (
        "agrees" if behind == 0 else f"agrees, {abs(behind)} block(s) {'behind' if behind > 0 else 'ahead'}"
    )
    return verdict
