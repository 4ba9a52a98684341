"""Catching up with peers: find the fork point, download block ranges from several peers at once,
apply them in order.

The peer with the best head is followed; the fork point is found from its block hashes. The
blocks after it are cut into chunks that every peer whose head is high enough may serve, several
at a time. Chunks are applied strictly in order through the chain manager, which validates every
block (a lying peer cannot make us accept anything; its invalid block is a fault). A chunk that
does not link to the block before it came from a peer on another branch: it is asked again from
the followed peer, without blame. Each applied block is on disk before the next (one synced batch
per block), so a node killed mid-sync resumes from its head.
"""

import itertools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from node.chain import ChainManager, Outcome
from node.p2p.messages import BLOCKS, HASHES, PeerError, Request, Status
from node.p2p.sync import STATUS, STATUS_PROTOCOL, request
from protocol.documents import Block
from protocol.errors import DecodeError

log = logging.getLogger("june.sync")

Discover = Callable[[set[Any]], Awaitable[dict[Any, Status]]]

CHUNK = 100
#: Chunks downloaded ahead of the one being applied (bounds memory on a long sync).
AHEAD = 16
PROGRESS_EVERY = 1.0
DISCOVER_EVERY = 0.5


class ForeignPeer(Exception):
    """A peer of another currency (another block 0)."""


class SyncAborted(Exception):
    """The followed peer changed branch or stopped answering mid-sync; the next round starts over."""


@dataclass
class Progress:
    """What a sync round has done so far: logged every second, and read by tests and benchmarks."""

    target: int = 0
    applied: int = 0
    started: float = 0.0
    peers: int = 0
    served_by: Counter[str] = field(default_factory=Counter)  # blocks downloaded from each peer

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.applied / elapsed if elapsed > 0 else 0.0


@dataclass
class _Round:
    next: int  # first block not applied yet
    failed: str | None = None  # why the round must stop


@dataclass
class _Chunk:
    start: int
    count: int
    followed_only: bool = False


class Syncer:
    def __init__(
        self,
        host: Any,
        chain: ChainManager,
        protocol: Any,
        currency: str,
        fault: Callable[[Any, str], Awaitable[None]],
        too_early: Callable[[Block], bool] = lambda _block: False,
    ) -> None:
        self.host = host
        self.too_early = too_early
        self.chain = chain
        self.protocol = protocol
        self.currency = currency
        self.fault = fault
        self.progress = Progress()
        self.chunk = CHUNK

    async def status(self, peer: Any) -> Status:
        status: Status = await request(self.host, peer, STATUS_PROTOCOL, Request(STATUS), STATUS)
        if status.genesis != self.chain.genesis_hash:
            raise ForeignPeer(f"{peer} runs another currency")
        return status

    async def catch_up(self, statuses: dict[Any, Status], discover: Discover | None = None) -> int:
        """Take the blocks of the best peer's chain that we lack; return how many were applied.

        `discover(known)` gives the heads of peers connected since the round began: on a long sync
        they join as helpers (a newcomer learns most of its peers while it downloads)."""
        ours = self.chain.head()
        assert ours is not None
        ahead = {p: s for p, s in statuses.items() if s.head_number > ours[0] and s.head_hash != ours[1]}
        if not ahead:
            return 0
        followed = max(ahead, key=lambda p: ahead[p].head_number)
        target = ahead[followed].head_number
        fork = await self._fork_point(followed, ours[0], target)
        helpers = [p for p, s in ahead.items() if p != followed and s.head_number > fork]
        return await self._download(followed, helpers, ahead, fork + 1, target, discover)

    async def _fork_point(self, peer: Any, our_number: int, their_number: int) -> int:
        params = self.chain.params
        window = 100 if params is None else params.fork_window_size
        top = min(our_number, their_number)
        low = max(0, top - window)
        theirs = await request(self.host, peer, self.protocol, Request(HASHES, low, top - low + 1), HASHES)
        fork = low - 1
        for offset, block_hash in enumerate(theirs):
            if self.chain.store.block_hash(low + offset) == block_hash:
                fork = low + offset
        return fork

    async def _download(
        self,
        followed: Any,
        helpers: list[Any],
        statuses: dict[Any, Status],
        first: int,
        target: int,
        discover: Discover | None,
    ) -> int:
        chunks = [_Chunk(n, min(self.chunk, target - n + 1)) for n in range(first, target + 1, self.chunk)]
        queue: list[_Chunk] = list(chunks)
        done: dict[int, tuple[list[Block], Any]] = {}
        arrived = trio.Condition()
        self.progress = Progress(target=target - first + 1, started=time.monotonic(), peers=1 + len(helpers))
        state = _Round(next=first)

        async def worker(peer: Any) -> None:
            """Fetch chunks this peer can serve until the round ends (the applier cancels us)."""
            while True:
                async with arrived:
                    chunk = self._take(queue, peer, followed, statuses, state.next, self.chunk)
                    while chunk is None:
                        await arrived.wait()
                        chunk = self._take(queue, peer, followed, statuses, state.next, self.chunk)
                try:
                    blocks = await self._fetch(peer, chunk)
                except (PeerError, DecodeError) as exc:
                    await self.fault(peer, f"sync: {exc}")
                    blocks = None
                except Exception as exc:  # timeouts, resets: nobody to blame, somebody else retries
                    log.info("range %d+%d from %s failed: %s", chunk.start, chunk.count, peer, exc)
                    blocks = None
                async with arrived:
                    if blocks is None:
                        if peer == followed:
                            state.failed = f"the followed peer stopped answering at block {chunk.start}"
                        else:  # this helper is done for the round; the followed peer takes its chunk
                            queue.insert(0, _Chunk(chunk.start, chunk.count, followed_only=True))
                        arrived.notify_all()
                        return
                    done[chunk.start] = (blocks, peer)
                    self.progress.served_by[str(peer)] += len(blocks)
                    arrived.notify_all()

        async def downloaded(start: int) -> tuple[list[Block], Any]:
            """The chunk starting at `start`, once a worker has it (call with `arrived` held)."""
            while start not in done:
                if state.failed is not None:
                    raise SyncAborted(str(state.failed))
                await arrived.wait()
            return done.pop(start)

        applied = 0
        async with trio.open_nursery() as nursery:
            for peer in [followed, *helpers]:
                nursery.start_soon(worker, peer)
            last_discovery = time.monotonic()
            last_report = last_discovery - PROGRESS_EVERY  # the first chunk is reported at once
            for chunk in chunks:
                async with arrived:
                    blocks, source = await downloaded(chunk.start)
                if not self._links(blocks, chunk.start):
                    if source == followed:
                        raise SyncAborted(f"the followed peer's chain changed at block {chunk.start}")
                    async with arrived:  # a helper on another branch: ask the followed peer
                        queue.insert(0, _Chunk(chunk.start, chunk.count, followed_only=True))
                        arrived.notify_all()
                        blocks, source = await downloaded(chunk.start)
                applied += await self._apply(blocks, source)
                async with arrived:
                    state.next = chunk.start + chunk.count
                    arrived.notify_all()
                if discover is not None and time.monotonic() - last_discovery >= DISCOVER_EVERY:
                    last_discovery = time.monotonic()
                    for peer, status in (await discover(set(statuses))).items():
                        if status.head_number >= state.next and status.genesis == self.chain.genesis_hash:
                            statuses[peer] = status
                            self.progress.peers += 1
                            nursery.start_soon(worker, peer)
                if time.monotonic() - last_report >= PROGRESS_EVERY:
                    last_report = time.monotonic()
                    log.info(
                        "sync: %d/%d blocks from %d peers, %.0f blocks/s",
                        self.progress.applied,
                        self.progress.target,
                        self.progress.peers,
                        self.progress.rate,
                    )
            nursery.cancel_scope.cancel()  # every chunk is applied: the workers are done
        return applied

    @staticmethod
    def _take(
        queue: list[_Chunk], peer: Any, followed: Any, statuses: dict[Any, Status], next_start: int, size: int
    ) -> _Chunk | None:
        for index, chunk in enumerate(queue):
            if chunk.start >= next_start + AHEAD * size:
                return None
            if chunk.followed_only and peer != followed:
                continue
            if peer == followed or statuses[peer].head_number >= chunk.start + chunk.count - 1:
                return queue.pop(index)
        return None

    async def _fetch(self, peer: Any, chunk: _Chunk) -> list[Block]:
        blocks: list[Block] = []
        number = chunk.start
        while number < chunk.start + chunk.count:
            wanted = chunk.start + chunk.count - number
            raw_blocks = await request(
                self.host, peer, self.protocol, Request(BLOCKS, number, wanted), BLOCKS
            )
            if not raw_blocks:
                raise PeerError(f"announced block {number} but sent none")
            for raw in raw_blocks[:wanted]:
                block = Block.from_bytes(raw, currency=self.currency)
                if block.number != number:
                    raise PeerError(f"sent block {block.number} when asked for {number}")
                blocks.append(block)
                number += 1
        return blocks

    def _links(self, blocks: list[Block], start: int) -> bool:
        """The chunk is one chain on top of our block `start - 1`, or of a fork candidate (while a
        branch is being downloaded, its first blocks are candidates until it wins)."""
        parent = blocks[0].previous_hash or b""
        on_top = start == 0 or parent == self.chain.store.block_hash(start - 1)
        if not on_top and not self.chain.store.has_fork_candidate(parent):
            return False
        return all(later.previous_hash == earlier.hash for earlier, later in itertools.pairwise(blocks))

    async def _apply(self, blocks: list[Block], source: Any) -> int:
        applied = 0
        for index, block in enumerate(blocks):
            if self.too_early(block):  # it waits for its time: a later round takes it
                raise SyncAborted(f"block {block.number} is dated ahead of this node's clock")
            result = self.chain.add_block(block, durable=index == len(blocks) - 1)
            if result.outcome is Outcome.INVALID:
                await self.fault(source, f"sent invalid block {block.number}: {result.reason}")
                raise SyncAborted(f"block {block.number} is invalid: {result.reason}")
            if result.outcome in (Outcome.APPLIED, Outcome.SWITCHED, Outcome.CANDIDATE):
                applied += 1
                self.progress.applied += 1
            await trio.sleep(0)  # let the node answer peers between blocks
        return applied
