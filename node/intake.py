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
"""

import logging
import time
from collections.abc import Callable, Sequence
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
        """Validate and apply (or keep, or refuse) one block; react to a new head at once."""
        before = self.chain.head()
        result = self._take(block, source, durable=durable)
        self._report(result)
        self._react(before)
        return result

    async def take_batch(self, blocks: Sequence[Block], source: Any = None) -> list[AddResult]:
        """Blocks in order (a downloaded range), synced to disk once at the end; stops at the first
        one refused or waiting. The new head is reacted to once, after the batch; the event loop
        runs between blocks (peers and clients are answered, deadlines are not missed)."""
        before = self.chain.head()
        results: list[AddResult] = []
        try:
            for index, block in enumerate(blocks):
                result = self._take(block, source, durable=index == len(blocks) - 1)
                self._report(result)
                results.append(result)
                if result.outcome in (Outcome.INVALID, Outcome.JUNK, Outcome.WAITING, Outcome.QUARANTINED):
                    break
                await trio.sleep(0)
        finally:
            self._react(before)
        return results

    def take_due(self) -> None:
        """Take the waiting blocks whose time has come, lowest first."""
        if self.clock is None:
            return
        now = self.clock.now()
        for block_hash, (block, source) in sorted(self._future.items(), key=lambda e: e[1][0].number):
            if block.time <= now + FUTURE_TOLERANCE:
                del self._future[block_hash]
                self.take(block, source)

    def _take(self, block: Block, source: Any, *, durable: bool) -> AddResult:
        block_hash = block.hash
        if block_hash in self._quarantined:
            return AddResult(Outcome.QUARANTINED, self._quarantined[block_hash])
        if self.too_early(block):
            if len(self._future) < MAX_FUTURE_BLOCKS or block_hash in self._future:
                self._future[block_hash] = (block, source)
            return WAITING
        started = time.perf_counter()
        try:
            sender = None if source is None else str(source)
            result = self.chain.add_block(block, durable=durable, source=sender)
        except DiskFull as exc:
            # our disk, not the block: not quarantined, nobody blamed; it waits for the next sync
            # or gossip, and is taken once space returns (the store logged it once)
            return AddResult(Outcome.WAITING, str(exc))
        except Exception as exc:
            return self._quarantine(block, source, exc)
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
        return result

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
