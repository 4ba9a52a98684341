"""The one block intake: every block the node meets (gossip, sync, import, its own forger) enters here.

`take` runs the same steps whatever the source: a block dated too far ahead of the node's clock
waits for its time (bounded); the chain manager validates it and applies it, keeps it as a fork
candidate or refuses it; the sender is blamed by what the chain found (a block that breaks a rule,
a fork candidate that could never become the chain); and a change of head is reacted to once
(`on_head_change`: the mempool's re-check, the forger, the log). A block whose parent we lack
asks for a sync (`on_missing`).

An unexpected exception while a block is validated or applied is a bug or a broken store, not the
sender's doing: it is logged with the block and the peer, the block is quarantined (never taken
again while the node runs) and the node goes on.

In a running node, blocks come in through the async `receive`, `receive_due` and `take_batch`:
validation and writes run in a worker thread, one at a time (`_writer`, then the chain's own lock),
so the event loop keeps answering peers and clients while a heavy block is applied. Everything
else (blame, metrics, the sync trigger, the reaction to a new head) runs on the loop. A cancelled
caller does not interrupt its worker (a thread cannot be stopped half-way through a batch): the
thread finishes, its result is handled, the new head is reacted to, and the cancellation lands at
the caller's next checkpoint.
"""

import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import trio

from node.chain import AddResult, ChainManager, Outcome
from node.clock import Clock
from node.errors import DiskFull
from node.p2p.misbehaviour import Offence
from protocol.crypto import hash_hex
from protocol.documents import Block
from protocol.rules.production import is_hash_valid

log = logging.getLogger("june.intake")

#: How far ahead of the node's clock a block may be dated and still be taken now.
FUTURE_TOLERANCE = 60
#: Blocks kept while they wait for their time.
MAX_FUTURE_BLOCKS = 256
#: Blocks that made the node fail, remembered so that they are not tried again.
MAX_QUARANTINED = 1000

Blame = Callable[[Any, Offence, str], None]

WAITING = AddResult(Outcome.WAITING, "dated ahead of this node's clock: it waits for its time")


def _no_blame(_peer: Any, _offence: Offence, _detail: str) -> None:
    return None


class BlockIntake:
    """Blocks in, one way; `source` is the sending peer, or None for the node itself or an import."""

    def __init__(self, chain: ChainManager, clock: Clock | None, blame: Blame = _no_blame) -> None:
        """`clock` None: no block waits for its time (an operator's import of a chain file)."""
        self.chain = chain
        self.clock = clock
        self.blame = blame
        self.on_head_change: list[Callable[[], None]] = []
        self.on_missing: list[Callable[[], None]] = []
        self.on_taken: list[Callable[[AddResult], None]] = []  # every outcome (the node's metrics)
        self._future: dict[bytes, tuple[Block, Any]] = {}
        self._quarantined: dict[bytes, str] = {}
        # The one async writer: tasks queue here (cancellably) rather than in worker threads.
        self._writer = trio.Lock()

    def too_early(self, block: Block) -> bool:
        return self.clock is not None and block.time > self.clock.now() + FUTURE_TOLERANCE

    def refusal(self, block: Block) -> str | None:
        """Why a gossiped block is not worth relaying (cheap checks only), or None to relay it."""
        store = self.chain.store
        if block.hash in self._quarantined:
            return "quarantined"
        reason = store.invalid_reason(block.hash)
        if reason is not None:
            return f"known invalid: {reason}"
        if store.head_pointer() is None or self.chain.params is None:
            return "this node has no chain yet"
        if self.chain.is_too_old(block.number):
            return "beyond the fork window"
        if self.too_early(block):
            return "dated ahead of this node's clock"
        if not is_hash_valid(block.hash, block.pow_min):
            return "its hash does not meet the minimal proof of work"
        return None

    def take(self, block: Block, source: Any = None, *, durable: bool = True) -> AddResult:
        """Validate and apply (or keep, or refuse) one block on this thread; react to a new head
        at once (an import, tests: a running node uses `receive`)."""
        before = self.chain.head()
        result = self._held(block, source)
        if result is None:
            started = time.perf_counter()
            result = self._checked(block, source, lambda: self._add(block, source, durable))
            self._judge(block, source, result, started)
        self._report(result)
        self._react(before)
        return result

    async def receive(self, block: Block, source: Any = None) -> AddResult:
        """`take`, with the validation and the write in a worker thread."""
        result = self._held(block, source)
        if result is None:
            async with self._writer:
                before = self.chain.head()
                started = time.perf_counter()
                try:
                    result = await trio.to_thread.run_sync(
                        self._checked, block, source, lambda: self._add(block, source, True)
                    )
                    self._judge(block, source, result, started)
                finally:
                    self._react(before)
        self._report(result)
        return result

    async def take_batch(self, blocks: Sequence[Block], source: Any = None) -> list[AddResult]:
        """Blocks in order (a downloaded range); stops at the first one refused or waiting.

        A worker thread validates them on an in-memory layer and writes them in synced batches
        (`ChainManager.extend_run`), handing back to the event loop at every batch; the new head is
        reacted to once, after the range. Cancelled, it stops at the next hand-back (the blocks
        written so far stay, and are reacted to)."""
        results: list[AddResult] = []
        sender = None if source is None else str(source)
        async with self._writer:
            before = self.chain.head()
            try:
                while len(results) < len(blocks):
                    block = blocks[len(results)]
                    held = self._held(block, source)
                    if held is not None:  # quarantined or too early: through the usual steps
                        self._report(held)
                        results.append(held)
                        break
                    remaining = blocks[len(results) :]
                    started = time.perf_counter()
                    run = await trio.to_thread.run_sync(
                        partial(self.chain.extend_run, remaining, source=sender)
                    )
                    for taken, result in zip(remaining, run.results, strict=False):
                        self._judge(taken, source, result, started)
                        self._report(result)
                        results.append(result)
                    if run.error is None and not run.results:  # cannot happen: no endless loop
                        break
                    if run.error is not None:
                        failed = remaining[len(run.results)]
                        result = self._failed(failed, source, run.error)
                        self._report(result)
                        results.append(result)
                        break
                    if results and results[-1].outcome in (
                        Outcome.INVALID,
                        Outcome.JUNK,
                        Outcome.WAITING,
                        Outcome.QUARANTINED,
                    ):
                        break
            finally:
                self._react(before)
        return results

    def take_due(self) -> None:
        """Take the waiting blocks whose time has come, lowest first."""
        for block, source in self._due():
            self.take(block, source)

    async def receive_due(self) -> None:
        """`take_due` through `receive`."""
        for block, source in self._due():
            await self.receive(block, source)

    def _due(self) -> list[tuple[Block, Any]]:
        if self.clock is None:
            return []
        now = self.clock.now()
        due = []
        for block_hash, (block, source) in sorted(self._future.items(), key=lambda e: e[1][0].number):
            if block.time <= now + FUTURE_TOLERANCE:
                del self._future[block_hash]
                due.append((block, source))
        return due

    def _held(self, block: Block, source: Any) -> AddResult | None:
        """The outcome of a block that is not handed to the chain: quarantined, or kept until its
        time comes (on the caller's thread, the event loop's in a running node)."""
        block_hash = block.hash
        if block_hash in self._quarantined:
            return AddResult(Outcome.QUARANTINED, self._quarantined[block_hash])
        if self.too_early(block):
            if len(self._future) < MAX_FUTURE_BLOCKS or block_hash in self._future:
                self._future[block_hash] = (block, source)
            return WAITING
        return None

    def _add(self, block: Block, source: Any, durable: bool) -> AddResult:
        sender = None if source is None else str(source)
        return self.chain.add_block(block, durable=durable, source=sender)

    def _checked(self, block: Block, source: Any, add: Callable[[], AddResult]) -> AddResult:
        """`add()`, an exception turned into the block's outcome (on any thread: it only logs)."""
        try:
            return add()
        except Exception as exc:
            return self._failed(block, source, exc)

    def _failed(self, block: Block, source: Any, exc: Exception) -> AddResult:
        if isinstance(exc, DiskFull):
            # our disk, not the block: not quarantined, nobody blamed; it waits for the next sync
            # or gossip, and is taken once space returns (the store logged it once)
            return AddResult(Outcome.WAITING, str(exc))
        return self._quarantine(block, source, exc)

    def _judge(self, block: Block, source: Any, result: AddResult, started: float) -> None:
        """Blame the sender, ask for a sync, log a new head: on the event loop."""
        if result.outcome is Outcome.INVALID:
            self.blame(source, Offence.INVALID_BLOCK, f"block {block.number}: {result.reason}")
        elif result.outcome is Outcome.JUNK:
            self.blame(source, Offence.JUNK_CANDIDATE, f"block {block.number}: {result.reason}")
        elif result.outcome in (Outcome.ORPHAN, Outcome.CANDIDATE):
            for missing in self.on_missing:  # we lack its parent, or it is on another branch
                missing()
        elif result.outcome in (Outcome.APPLIED, Outcome.SWITCHED):
            # the wall-clock time lets a benchmark measure propagation across processes
            log.info(
                "block %d %s at %.6f (%.1f ms)",
                block.number,
                result.outcome,
                time.time(),
                (time.perf_counter() - started) * 1000,
            )

    def _quarantine(self, block: Block, source: Any, exc: Exception) -> AddResult:
        log.error(
            "block %d %s from %s made the node fail; quarantined",
            block.number,
            hash_hex(block.hash)[:16],
            source or "this node",
            exc_info=exc,
        )
        if len(self._quarantined) >= MAX_QUARANTINED:
            self._quarantined.pop(next(iter(self._quarantined)))
        reason = f"quarantined after an internal error: {type(exc).__name__}"
        self._quarantined[block.hash] = reason
        return AddResult(Outcome.QUARANTINED, reason)

    def _report(self, result: AddResult) -> None:
        for taken in self.on_taken:
            taken(result)

    def _react(self, before: tuple[int, bytes, bytes] | None) -> None:
        if self.chain.head() == before:
            return
        for react in self.on_head_change:
            try:
                react()
            except Exception:
                log.exception("reacting to a new head failed")
