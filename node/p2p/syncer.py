"""Catching up with peers: find the fork point, download block ranges from several peers at once,
hand them in order to the block intake.

Heads are claims, not facts. The peer with the best claimed head is followed, but nothing is ever
planned or allocated from its claim: chunks are cut lazily, at most `AHEAD` of them beyond the
one being applied, so a claim of 2^62 costs what a claim of the next block costs. A followed peer
that cannot serve a block at or below the head it claimed has lied: the round stops and its lie is
counted (two lies ban). Every block is validated by the chain manager (through the intake), so a
lying peer cannot make us accept anything.

Slow or silent peers cost little: every request has a deadline (`Network.ask`), a peer that let
one pass rests for a while (`Performance`), helpers are the quickest peers, peers that connect
during a long sync are discovered in the background (never by the task that applies blocks), and
a helper that fails hands its chunk back at once. A chunk that does not link to the block before
it came from a peer on another branch: it is asked again from the followed peer, without blame.
Each applied batch is on disk before the next, so a node killed mid-sync resumes from its head.

Blocks are applied in a worker thread (`BlockIntake.take_batch`): while a heavy chunk is applied,
the next chunks keep downloading within their deadlines and the node keeps answering peers and
clients.
"""

import itertools
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio

from node.chain import Outcome
from node.failures import describe_exception
from node.intake import BlockIntake
from node.p2p.messages import BLOCKS, HASHES, Request, Status
from node.p2p.misbehaviour import Offence
from node.p2p.network import Network, PeerFailed
from protocol.documents import Block
from protocol.errors import DecodeError

log = logging.getLogger("june.sync")

CHUNK = 100
#: Chunks downloaded ahead of the one being applied (bounds memory on a long sync).
AHEAD = 16
#: Peers downloading at once in a round (the quickest are chosen).
MAX_HELPERS = 8
PROGRESS_EVERY = 1.0
DISCOVER_EVERY = 0.5


class SyncAborted(Exception):
    """The followed peer changed branch, lied or stopped answering; the next round starts over."""


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
class _Chunk:
    start: int
    count: int
    followed_only: bool = False


@dataclass
class _Round:
    """One download: the chunks still to fetch are cut lazily from `cut_from` up to `target`."""

    followed: Any
    target: int
    statuses: dict[Any, Status]
    size: int
    next: int  # first block not applied yet
    cut_from: int  # first block not yet cut into a chunk
    retry: list[_Chunk] = field(default_factory=list)  # chunks handed back, served first
    done: dict[int, tuple[list[Block], Any]] = field(default_factory=dict)
    failed: str | None = None
    changed: trio.Condition = field(default_factory=trio.Condition)

    def take(self, peer: Any) -> _Chunk | None:
        """The next chunk `peer` may serve, within the window ahead of the applier."""
        for index, chunk in enumerate(self.retry):
            if chunk.followed_only and peer != self.followed:
                continue
            if self._can_serve(peer, chunk):
                return self.retry.pop(index)
        if self.cut_from > self.target or self.cut_from >= self.next + AHEAD * self.size:
            return None
        chunk = _Chunk(self.cut_from, min(self.size, self.target - self.cut_from + 1))
        if not self._can_serve(peer, chunk):
            return None
        self.cut_from += chunk.count
        return chunk

    def _can_serve(self, peer: Any, chunk: _Chunk) -> bool:
        return peer == self.followed or self.statuses[peer].head_number >= chunk.start + chunk.count - 1


class Syncer:
    def __init__(self, network: Network, intake: BlockIntake) -> None:
        self.network = network
        self.intake = intake
        self.chain = intake.chain
        self.progress = Progress()
        self.chunk = CHUNK

    async def catch_up(self, statuses: dict[Any, Status]) -> int:
        """Take the blocks of the best claimed chain that we lack; return how many were taken."""
        ours = self.chain.head()
        assert ours is not None
        ahead = {p: s for p, s in statuses.items() if s.head_number > ours[0] and s.head_hash != ours[1]}
        if not ahead:
            return 0
        followed = max(ahead, key=lambda p: ahead[p].head_number)
        target = ahead[followed].head_number
        fork = await self._fork_point(followed, ours[0], target)
        helpers = [p for p in self.network.performance.fastest_first(ahead) if p != followed]
        helpers = [p for p in helpers if ahead[p].head_number > fork][: MAX_HELPERS - 1]
        state = _Round(followed, target, dict(ahead), self.chunk, next=fork + 1, cut_from=fork + 1)
        return await self._download(state, helpers)

    async def _fork_point(self, peer: Any, our_number: int, their_number: int) -> int:
        params = self.chain.params
        window = 100 if params is None else params.fork_window_size
        top = min(our_number, their_number)
        low = max(0, top - window)
        try:
            theirs = await self.network.ask(peer, Request(HASHES, low, top - low + 1))
        except PeerFailed as exc:
            raise SyncAborted(f"fork point: {exc}") from exc
        if len(theirs) < top - low + 1:
            self.network.penalise(peer, Offence.LYING_HEAD, f"claimed head {their_number}, has no hash {top}")
            self.network.performance.failed(peer)  # not followed again for a while
            raise SyncAborted(f"{peer} claimed head {their_number} but has no block {top}")
        fork = low - 1
        for offset, block_hash in enumerate(theirs):
            if self.chain.store.block_hash(low + offset) == block_hash:
                fork = low + offset
        return fork

    async def _download(self, state: _Round, helpers: list[Any]) -> int:
        first = state.next
        self.progress = Progress(
            target=state.target - first + 1, started=time.monotonic(), peers=1 + len(helpers)
        )
        applied = 0
        async with trio.open_nursery() as nursery:
            for peer in [state.followed, *helpers]:
                nursery.start_soon(self._worker, state, peer)
            nursery.start_soon(self._discover, state, nursery)
            last_report = time.monotonic() - PROGRESS_EVERY  # the first chunk is reported at once
            while state.next <= state.target:
                blocks, source = await self._downloaded(state, state.next)
                if not self._links(blocks, state.next):
                    if source == state.followed:
                        raise SyncAborted(f"the followed peer's chain changed at block {state.next}")
                    async with state.changed:  # a helper on another branch: ask the followed peer
                        state.retry.insert(0, _Chunk(state.next, len(blocks), followed_only=True))
                        state.changed.notify_all()
                    continue
                applied += await self._apply(blocks, source)
                async with state.changed:
                    state.next += len(blocks)
                    state.changed.notify_all()
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

    async def _worker(self, state: _Round, peer: Any) -> None:
        """Fetch chunks this peer can serve until the round ends (the applier cancels us)."""
        while True:
            async with state.changed:
                chunk = state.take(peer)
                while chunk is None:
                    await state.changed.wait()
                    chunk = state.take(peer)
            try:
                blocks = await self._fetch(peer, chunk, state)
            except PeerFailed as exc:
                log.info(
                    "range %d+%d from %s failed: %s", chunk.start, chunk.count, peer, describe_exception(exc)
                )
                blocks = None
            async with state.changed:
                if blocks is None:
                    if peer == state.followed:
                        state.failed = f"the followed peer stopped answering at block {chunk.start}"
                    else:  # this helper is done for the round; the followed peer takes its chunk
                        state.retry.insert(0, _Chunk(chunk.start, chunk.count, followed_only=True))
                    state.changed.notify_all()
                    return
                state.done[chunk.start] = (blocks, peer)
                self.progress.served_by[str(peer)] += len(blocks)
                state.changed.notify_all()

    async def _discover(self, state: _Round, nursery: trio.Nursery) -> None:
        """Peers connected since the round began join as helpers (a newcomer learns most of its
        peers while it downloads); asked in the background, so a silent one delays nobody."""
        while True:
            await trio.sleep(DISCOVER_EVERY)
            known = frozenset(str(p) for p in state.statuses)
            for peer, status in (await self.network.statuses(exclude=known)).items():
                if status.head_number >= state.next and self.progress.peers < MAX_HELPERS:
                    state.statuses[peer] = status
                    self.progress.peers += 1
                    nursery.start_soon(self._worker, state, peer)

    @staticmethod
    async def _downloaded(state: _Round, start: int) -> tuple[list[Block], Any]:
        async with state.changed:
            while start not in state.done:
                if state.failed is not None:
                    raise SyncAborted(state.failed)
                await state.changed.wait()
            return state.done.pop(start)

    async def _fetch(self, peer: Any, chunk: _Chunk, state: _Round) -> list[Block]:
        blocks: list[Block] = []
        number = chunk.start
        currency = self.chain.store.chain()
        while number < chunk.start + chunk.count:
            wanted = chunk.start + chunk.count - number
            raw_blocks = await self.network.ask(peer, Request(BLOCKS, number, wanted))
            if not raw_blocks:
                claimed = state.statuses[peer].head_number
                lie = f"claimed head {claimed}, has no block {number}"
                self.network.penalise(peer, Offence.LYING_HEAD, lie)
                self.network.performance.failed(peer)  # not followed again for a while
                raise PeerFailed(f"{peer} claimed head {claimed} but sent no block {number}")
            for raw in raw_blocks[:wanted]:
                try:
                    block = Block.from_bytes(raw, currency=None if currency is None else currency.currency)
                except DecodeError as exc:
                    self.network.penalise(peer, Offence.MALFORMED, f"block {number}: {exc}")
                    raise PeerFailed(f"{peer} sent an undecodable block {number}") from exc
                if block.number != number:
                    self.network.penalise(peer, Offence.BAD_ANSWER, f"sent block {block.number} for {number}")
                    raise PeerFailed(f"{peer} sent block {block.number} when asked for {number}")
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
        results = await self.intake.take_batch(blocks, source)
        taken = sum(1 for r in results if r.outcome in (Outcome.APPLIED, Outcome.SWITCHED, Outcome.CANDIDATE))
        self.progress.applied += taken
        last = results[-1] if results else None
        if last is not None and last.outcome is Outcome.WAITING:
            raise SyncAborted(f"block {blocks[len(results) - 1].number} waits: {last.reason}")
        if last is not None and last.outcome in (Outcome.INVALID, Outcome.JUNK, Outcome.QUARANTINED):
            raise SyncAborted(f"block {blocks[len(results) - 1].number} refused: {last.reason}")
        return taken
