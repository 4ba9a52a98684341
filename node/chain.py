"""The node's chain: the head, new blocks, fork candidates and branch switches (rules.md §6.7).

A block that extends the head is validated on the store and applied in one batch. Any other block
is kept as a fork candidate only if it could become the chain: its parent is known (in the chain or
among the candidates), the fork point is within the fork window, its issuer is a member at the
parent, its proof of work meets that issuer's personalised difficulty there (with every other
production field: time, issuers frame, powMin, size) and its signature is valid. Candidates are
bounded in number and per sending peer.

The candidates are indexed in memory (by hash, by parent, by number), loaded once from the store,
where those that no longer pass these checks are deleted. When a candidate branch could beat the
head by the fork rule, it is validated in memory on top of the store reverted to the fork point,
and only then written, reverting and applying in one batch, so a crash leaves either branch whole.
Blocks found invalid are remembered and never fetched or validated again.

One writer at a time: every method that changes the chain holds `ChainManager.lock`, so the node
may call them from worker threads (off its event loop) while its loop keeps reading the store.
A run of downloaded blocks (`extend_run`) is validated on an in-memory layer over the store and
written in batches: the head pointer moves only when a batch is written and synced, so the head
the node serves is on disk, and a crash mid-run leaves the store at the last batch's head.
"""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from node.candidates import Candidate, CandidateIndex, membership_along, summary_of
from node.errors import StoreError
from node.store import LevelStore
from protocol.crypto import Hash, hash_hex
from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.fork import BranchHead, can_roll_back_to, choose_branch, is_within_fork_window
from protocol.params import SWITCH_ON_BRANCH_AHEAD_BY_X_BLOCKS, CurrencyParameters
from protocol.rules.block import validate_block
from protocol.rules.local import check_block_local
from protocol.rules.production import FrameCache, check_production
from protocol.state.delta import Delta
from protocol.state.overlay import Overlay
from protocol.state.stack import StackedState
from protocol.state.tables import BLOCK
from protocol.state.view import StateView

#: Fork candidates kept at most, in fork windows: room for several real competing branches.
CANDIDATE_WINDOWS = 10
#: Candidates one peer may have at a time beyond one fork window: a node on a minority fork
#: downloads the whole longer branch from the peer it follows (up to the window, plus the blocks
#: the fork rule needs to see it 3 blocks and 3·avgGenTime ahead).
SOURCE_MARGIN = 25
#: The rule code of a bad block signature: the signature is not covered by the block hash, so a
#: block refused for it is not remembered as invalid (the same block, well signed, is valid).
BLOCK_SIGNATURE_RULE = "checkBlockSignature"
#: A run of blocks (`extend_run`) is written to disk at least every this many blocks…
FLUSH_BLOCKS = 100
#: …and every this many seconds of validation: the head the node serves lags the work done by at
#: most this, and a worker thread returns to the event loop (which may cancel it) this often.
FLUSH_SECONDS = 1.0


class Outcome(StrEnum):
    APPLIED = "applied"  # the block extended the head: no blame
    SWITCHED = "switched"  # the block completed a better branch, which is now the chain: no blame
    CANDIDATE = "candidate"  # kept as a fork candidate (it could become the chain): no blame
    KNOWN = "known"  # already in the chain or among the candidates: no blame
    INVALID = "invalid"  # breaks a rule (now or before): the sender is to blame
    JUNK = "junk"  # could never become the chain (issuer not a member at its parent, proof of work
    # short of the issuer's difficulty, bad signature, a peer over its candidate bound): the sender
    # is to blame; nothing is stored
    ORPHAN = "orphan"  # its parent is unknown (neither chain nor candidate): not stored, no blame;
    # the caller syncs from the sender (the cheap checks it could pass, it passed)
    TOO_OLD = "too-old"  # forks beyond the fork window: not stored, no blame (a peer may lag)
    DROPPED = "dropped"  # could become the chain, but the candidates are at their total bound and
    # every kept branch is longer: not stored, no blame (the bound is shared by all peers)
    WAITING = "waiting"  # (node.intake only) dated ahead of the node's clock: kept until its time
    QUARANTINED = "quarantined"  # (node.intake only) made the node fail: not taken again


@dataclass(frozen=True)
class AddResult:
    outcome: Outcome
    reason: str = ""


class _Junk(Exception):
    """A block that could never become the chain; `certain`: remember its hash as invalid."""

    def __init__(self, reason: str, *, certain: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.certain = certain


#: The outcomes after which a run goes on with its next block.
_GOES_ON = (Outcome.APPLIED, Outcome.SWITCHED, Outcome.KNOWN, Outcome.CANDIDATE)


class ChainBusy(Exception):
    """Another thread is changing the chain (see `ChainManager.lock`): ask again later."""


@dataclass
class RunResult:
    """What `extend_run` did with a prefix of its blocks; `error` stopped it at the next block."""

    results: list[AddResult]
    error: Exception | None = None


class ChainManager:
    """The chain of one node over its `LevelStore`."""

    def __init__(self, store: LevelStore, *, genesis_hash: Hash | None = None) -> None:
        self.store = store
        # The one writer: held while blocks are validated and written (reentrant: `extend_run`
        # falls back to `add_block`). Readers (the API, peers' requests) never take it.
        self.lock = threading.RLock()
        self.genesis_hash = genesis_hash or store.genesis_hash()
        self._valid_tips: set[bytes] = set()  # heads of candidate branches found valid
        self._candidates: CandidateIndex | None = None  # loaded (and cleaned) on first use
        self._pruned_to = -1  # candidates up to this number have been dropped (beyond the window)
        # The store reverted to a fork point, kept while the head does not move: every block of a
        # branch being downloaded asks for the same one. (head hash, fork point, view)
        self._fork_view: tuple[bytes, int, StackedState] | None = None
        # The issuers frame carried from one validated block to the next (a memo keyed by head).
        self._frames = FrameCache()

    @property
    def params(self) -> CurrencyParameters | None:
        chain = self.store.chain()
        return None if chain is None else chain.parameters

    def head(self) -> tuple[int, Hash, Hash] | None:
        return self.store.head_pointer()

    def candidate_bounds(self) -> tuple[int, int]:
        """(total, per peer) bounds of the fork candidates."""
        window = 100 if self.params is None else self.params.fork_window_size
        return CANDIDATE_WINDOWS * window, window + SOURCE_MARGIN

    def is_too_old(self, number: int) -> bool:
        """Whether a block at height `number` can only fork beyond the fork window (a cheap check
        before anything else: such a block can never become the chain)."""
        head, params = self.store.head_pointer(), self.params
        return head is not None and params is not None and number <= head[0] - params.fork_window_size

    def add_block(self, block: Block, *, durable: bool = True, source: str | None = None) -> AddResult:
        """Take a block from anywhere and say what became of it (see `Outcome` for who is to blame).

        `source` is the sending peer (its id as text), None for this node's forger or an import:
        it bounds the fork candidates each peer may leave. `durable=False` lets a download skip
        the disk sync of a block that is not the last of its batch (see `LevelStore.apply_block`)."""
        with self.lock:
            return self._add_block(block, durable=durable, source=source)

    def extend_run(
        self, blocks: Sequence[Block], *, source: str | None = None, max_seconds: float | None = None
    ) -> RunResult:
        """Take blocks in order (a downloaded range) until one is not applied or `max_seconds`
        (default `FLUSH_SECONDS`) have passed; the results cover the blocks taken, and the first of
        the rest is the one `error` (an exception, not a verdict on the block) stopped.

        Blocks that extend the head are validated on an in-memory layer and written together, in
        one synced batch at least every `FLUSH_BLOCKS` blocks and at the end, instead of one batch
        each: the head pointer, read by the API and served to peers, only moves to a block on disk.
        Any other block (a fork, a known block) goes through `add_block`, after a flush."""
        with self.lock:
            results: list[AddResult] = []
            pending: list[tuple[Block, Delta]] = []
            stack: StackedState | None = None
            started = time.monotonic()
            budget = FLUSH_SECONDS if max_seconds is None else max_seconds
            try:
                for block in blocks:
                    if self._follows(block, pending):
                        if stack is None:
                            stack = StackedState(self.store)
                        try:
                            delta = validate_block(stack, block, frames=self._frames)
                        except RuleViolation as violation:
                            self._flush(pending)
                            results.append(self._refuse(block, violation))
                            break
                        stack.apply(delta, block.hash)
                        pending.append((block, delta))
                        results.append(AddResult(Outcome.APPLIED))
                        if len(pending) >= FLUSH_BLOCKS:
                            self._flush(pending)
                            stack = None
                    else:
                        self._flush(pending)
                        stack = None
                        result = self._add_block(block, durable=True, source=source)
                        results.append(result)
                        if result.outcome not in _GOES_ON:
                            break
                    if time.monotonic() - started >= budget:
                        break
                self._flush(pending)
            except Exception as exc:
                try:  # the blocks validated before a failing one are good: keep them
                    self._flush(pending)
                except Exception:  # blocks not on disk were not taken: the first of them failed
                    del results[len(results) - len(pending) :]
                return RunResult(results, exc)
            return RunResult(results)

    def _follows(self, block: Block, pending: list[tuple[Block, Delta]]) -> bool:
        """`block` extends the head (or the last block of `pending`) and is neither known nor
        known invalid: it can be validated on the in-memory layer."""
        if pending:
            last = pending[-1][0]
            number, head_hash = last.number, last.hash
        else:
            head = self.store.head_pointer()
            if head is None:
                return False
            number, head_hash = head[0], head[1]
        return (
            block.number == number + 1
            and block.previous_hash == head_hash
            and block.hash not in self._index()
            and self.store.invalid_reason(block.hash) is None
        )

    def _flush(self, pending: list[tuple[Block, Delta]]) -> None:
        """Write the validated blocks of a run in one synced batch (`pending` is emptied once they
        are on disk), then take the candidates that now follow the head and forget those the fork
        window left behind."""
        if not pending:
            return
        params = self.params
        assert params is not None
        self.store.apply_blocks(pending, fork_window=params.fork_window_size, sync=True)
        pending.clear()
        self._extend_with_candidates()
        self._prune()

    def _add_block(self, block: Block, *, durable: bool, source: str | None) -> AddResult:
        block_hash = block.hash
        reason = self.store.invalid_reason(block_hash)
        if reason is not None:
            return AddResult(Outcome.INVALID, reason)
        candidates = self._index()
        if block_hash in candidates or self.store.number_of(block_hash) is not None:
            return AddResult(Outcome.KNOWN)
        head = self.store.head_pointer()
        if head is None:
            return self._add_genesis(block)
        number, head_hash, _digest = head
        if block.number == number + 1 and block.previous_hash == head_hash:
            result = self._extend(block, durable=durable)
            if result.outcome is Outcome.APPLIED:
                self._extend_with_candidates()
                self._prune()
            return result
        params = self.params
        assert params is not None
        if self.is_too_old(block.number):
            return AddResult(Outcome.TOO_OLD, f"block {block.number} is beyond the fork window")
        try:
            admitted = self._admit(block, source, params)
        except _Junk as junk:
            if junk.certain:
                self.store.remember_invalid(block_hash, junk.reason)
            return AddResult(Outcome.JUNK, junk.reason)
        if isinstance(admitted, AddResult):
            return admitted
        self.store.put_fork_candidate(block)
        candidates.add(admitted)
        if self._could_win(admitted, params):
            switched = self._consider_branches()
            if switched is not None:
                return switched
        return AddResult(Outcome.CANDIDATE)

    def _add_genesis(self, block: Block) -> AddResult:
        if self.genesis_hash is not None and block.hash != self.genesis_hash:
            return AddResult(Outcome.INVALID, "not this currency's block 0")
        if block.number != 0:
            return AddResult(Outcome.ORPHAN, "this node has no block 0 yet")
        result = self._extend(block)
        if result.outcome is Outcome.APPLIED:
            self.genesis_hash = block.hash
        return result

    def _extend(self, block: Block, *, durable: bool = True) -> AddResult:
        try:
            delta = validate_block(self.store, block, frames=self._frames)
        except RuleViolation as violation:
            return self._refuse(block, violation)
        window = 100 if self.params is None else self.params.fork_window_size
        if block.number == 0 and block.parameters is not None:
            window = block.parameters.fork_window_size
        self.store.apply_blocks([(block, delta)], fork_window=window, sync=durable)
        return AddResult(Outcome.APPLIED)

    def _refuse(self, block: Block, violation: RuleViolation) -> AddResult:
        """An invalid block that would extend the head, remembered so it is never validated again
        (unless only its signature is bad: the same block well signed is valid)."""
        if violation.code != BLOCK_SIGNATURE_RULE:
            self.store.remember_invalid(block.hash, str(violation))
        return AddResult(Outcome.INVALID, str(violation))

    # Admission of fork candidates --------------------------------------------------------------

    def _admit(self, block: Block, source: str | None, params: CurrencyParameters) -> Candidate | AddResult:
        """The index entry of a block that could become the chain, or the outcome refusing it;
        `_Junk` for a block that never could. Cheapest checks first, the signature last."""
        head = self.store.head_pointer()
        assert head is not None
        try:
            check_block_local(block, signatures=False)
        except RuleViolation as violation:
            raise _Junk(str(violation), certain=True) from violation
        if block.previous_hash is None:
            raise _Junk("another block 0: not this currency's", certain=True)
        candidates = self._index()
        ancestors = candidates.lineage(block.previous_hash)
        root_parent = ancestors[-1].parent if ancestors else bytes(block.previous_hash)
        fork_point = self.store.number_of(root_parent)
        if fork_point is None:
            self._check_orphan(block)
            return AddResult(Outcome.ORPHAN, "its parent is unknown")
        parent_number = ancestors[0].number if ancestors else fork_point
        if block.number != parent_number + 1:
            raise _Junk(f"block {block.number} does not follow its parent {parent_number}", certain=True)
        # The window is measured from the branch's head, this block (rules.md §6.7).
        if not is_within_fork_window(block.number, fork_point, params) or not can_roll_back_to(
            head[0], fork_point, params
        ):
            return AddResult(Outcome.TOO_OLD, f"it forks at block {fork_point}, beyond the fork window")
        # Verify the issuer is a member at the parent: its membership along the branch, else at the
        # fork point, where an identity never a member at the head never was (no revert needed).
        member = membership_along(block.issuer, ancestors)
        if member is None:
            identity = self.store.identity(block.issuer)
            if identity is None or not identity.was_member:
                raise _Junk("the issuer is not a member", certain=True)
        # Verify time, header fields, size and the issuer's personalised difficulty at the parent.
        view: StateView = self.store if not ancestors else self._branch_view(block.number, ancestors)
        try:
            diff_number = check_production(view, params, block, frames=self._frames)
        except RuleViolation as violation:
            raise _Junk(str(violation), certain=True) from violation
        if member is None:
            at_fork = self._view_at(fork_point).identity(block.issuer)
            member = at_fork is not None and at_fork.member
        if not member:
            raise _Junk(f"the issuer is not a member at block {parent_number}", certain=True)
        total, per_source = self.candidate_bounds()
        if source is not None and candidates.per_source[source] >= per_source:
            raise _Junk(f"more than {per_source} fork candidates from one peer", certain=False)
        if not block.is_signature_valid():
            raise _Junk("the block's signature does not verify", certain=False)
        if len(candidates) >= total and not self._make_room(block, bytes(block.previous_hash)):
            return AddResult(Outcome.DROPPED, f"{total} fork candidates are kept, on longer branches")
        parent_summary = ancestors[0].summary if ancestors else self.store.block_summary(fork_point)
        assert parent_summary is not None
        return Candidate.of(block, summary_of(block, diff_number, parent_summary), source)

    def _check_orphan(self, block: Block) -> None:
        """The checks a block whose parent is unknown can pass without the parent's state."""
        identity = self.store.identity(block.issuer)
        if identity is None or not identity.was_member:
            raise _Junk("the issuer is not a member", certain=False)  # it may join on that branch
        if not block.is_signature_valid():
            raise _Junk("the block's signature does not verify", certain=False)

    def _make_room(self, block: Block, parent: bytes) -> bool:
        """At the total bound, drop the lowest candidate without children if it is lower than
        `block` (the fork rule prefers the longest branch); False if `block` ranks last."""
        candidates = self._index()
        lowest = candidates.lowest_leaf(keep=parent)
        if lowest is None or lowest.number >= block.number:
            return False
        self._drop(lowest.hash)
        return True

    def _branch_view(self, number: int, ancestors: list[Candidate]) -> StateView:
        """The block summaries before block `number` on a branch of candidates (newest first):
        all the production rules read."""
        view = Overlay(self.store, number)
        for candidate in reversed(ancestors):
            view.write(BLOCK, candidate.number, candidate.summary)
        return view

    def _view_at(self, fork_point: int) -> StateView:
        """The state after main-chain block `fork_point`: the store reverted with its undo records
        (kept while the head does not move, and reverted further when asked for an older point)."""
        head = self.store.head_pointer()
        assert head is not None
        if fork_point == head[0]:
            return self.store
        cached = self._fork_view
        if cached is not None and cached[0] == head[1] and cached[1] >= fork_point:
            view, start = cached[2], cached[1]
        else:
            view, start = StackedState(self.store), head[0]
        for number in range(start, fork_point, -1):
            delta = self.store.undo_record(number)
            if delta is None:
                raise StoreError(f"no undo record for block {number} inside the fork window")
            view.revert(delta)
        self._fork_view = (bytes(head[1]), fork_point, view)
        return view

    def _could_win(self, candidate: Candidate, params: CurrencyParameters) -> bool:
        """The branch ending at `candidate` is far enough ahead of the head for the fork rule."""
        head = self.store.head()
        assert head is not None
        tip = BranchHead(candidate.number, candidate.median_time, candidate.hash)
        return choose_branch(BranchHead(head.number, head.median_time), [tip], params) is not None

    # The candidate index -----------------------------------------------------------------------

    def _index(self) -> CandidateIndex:
        """The candidates in memory, loaded from the store on first use; stored candidates that
        could not become the chain now (junk, unknown parent, beyond the window) are deleted."""
        if self._candidates is not None:
            return self._candidates
        self._candidates = CandidateIndex()
        stored = sorted(self.store.fork_candidates(), key=lambda b: b.number)  # parents first
        params, head = self.params, self.store.head_pointer()
        if params is None or head is None:
            for block in stored:
                self.store.delete_fork_candidate(block.hash)
            return self._candidates
        self._pruned_to = head[0] - params.fork_window_size
        for block in stored:
            admitted: Candidate | AddResult | None = None
            if block.number > self._pruned_to and self.store.number_of(block.hash) is None:
                try:
                    admitted = self._admit(block, None, params)
                except _Junk as junk:
                    if junk.certain:
                        self.store.remember_invalid(block.hash, junk.reason)
            if isinstance(admitted, Candidate):
                self._candidates.add(admitted)
            else:
                self.store.delete_fork_candidate(block.hash)
        return self._candidates

    def _drop(self, block_hash: bytes, reason: str | None = None) -> None:
        """Delete a candidate and its descendants from disk and memory (`reason`: remember them
        as invalid, the first with that reason, the others as its descendants)."""
        candidates = self._index()
        for position, dropped in enumerate(candidates.subtree(block_hash)):
            candidates.remove(dropped)
            self._valid_tips.discard(dropped)
            self.store.delete_fork_candidate(dropped)
            if reason is not None:
                why = reason if position == 0 else f"{reason} (in block {hash_hex(block_hash)[:16]})"
                self.store.remember_invalid(dropped, why)

    def _prune(self) -> None:
        """Drop the candidates that left the fork window as the head moved (each number once)."""
        params, head = self.params, self.store.head_pointer()
        if params is None or head is None:
            return
        candidates = self._index()
        oldest = head[0] - params.fork_window_size
        for number in range(max(self._pruned_to + 1, 0), oldest + 1):
            for block_hash in list(candidates.by_number.get(number, ())):
                self._drop(block_hash)
        self._pruned_to = max(self._pruned_to, oldest)

    def _extend_with_candidates(self) -> None:
        """Apply candidates that follow the head (a branch the head caught up with)."""
        candidates = self._index()
        while True:
            head = self.store.head_pointer()
            if head is None:
                return
            child = next(
                (
                    candidates.by_hash[h]
                    for h in sorted(candidates.children.get(bytes(head[1]), ()))
                    if candidates.by_hash[h].number == head[0] + 1
                ),
                None,
            )
            if child is None:
                return
            block = self.store.fork_candidate(child.hash)
            candidates.remove(child.hash)
            self._valid_tips.discard(child.hash)
            self.store.delete_fork_candidate(child.hash)
            result = AddResult(Outcome.INVALID) if block is None else self._extend(block)
            if result.outcome is not Outcome.APPLIED:
                for orphan in list(candidates.children.get(child.hash, ())):
                    self._drop(orphan, None if block is None else f"its parent is invalid: {result.reason}")

    # Branches and the fork rule ----------------------------------------------------------------

    def _consider_branches(self) -> AddResult | None:
        """Switch to the best valid branch if the fork rule prefers it to the current chain."""
        params = self.params
        head = self.store.head_pointer()
        if params is None or head is None:
            return None
        current = self.store.block_summary(head[0])
        assert current is not None
        while True:
            branches = self._branches(head[0] + SWITCH_ON_BRANCH_AHEAD_BY_X_BLOCKS, params)
            heads = {(branch[-1].number, branch[-1].hash): branch for branch in branches}
            best = choose_branch(
                BranchHead(current.number, current.median_time, head[1]),
                [BranchHead(b[-1].number, b[-1].median_time, b[-1].hash) for b in branches],
                params,
            )
            if best is None:
                return None
            branch = heads[(best.number, best.hash)]
            validated = self._validate_branch(branch)
            if validated is None:
                continue  # an invalid block was found and forgotten: choose again
            fork_point = branch[0].number - 1
            reverted = []
            for number in range(fork_point + 1, head[0] + 1):
                old, summary = self.store.block(number), self.store.block_summary(number)
                assert old is not None and summary is not None
                reverted.append(Candidate.of(old, summary, None))
            self.store.replace_branch(head[0] - fork_point, validated, fork_window=params.fork_window_size)
            candidates = self._index()
            for candidate in branch:
                candidates.remove(candidate.hash)
                self._valid_tips.discard(candidate.hash)
            for candidate in reverted:  # the old branch stays a candidate (on disk already)
                candidates.add(candidate)
            self._fork_view = None
            self._prune()
            return AddResult(Outcome.SWITCHED, f"switched at block {fork_point} to head {best.number}")

    def rival_head(self) -> Block | None:
        """The head of a valid branch that ties with the chain or beats it, with a lower hash when
        it ties: the branch a forger should let grow rather than compete with (see `node.forger`).
        Branches are validated here once; invalid ones are forgotten as usual.

        Raises `ChainBusy` rather than wait while another thread holds the lock (the forger asks
        from the event loop, which must not block on a block being applied)."""
        if not self.lock.acquire(blocking=False):
            raise ChainBusy("a block is being applied")
        try:
            return self._rival_head()
        finally:
            self.lock.release()

    def _rival_head(self) -> Block | None:
        params, head = self.params, self.store.head_pointer()
        if params is None or head is None:
            return None
        for branch in self._branches(head[0], params):
            tip = branch[-1]
            if tip.number == head[0] and tip.hash >= head[1]:
                continue
            if tip.hash not in self._valid_tips:
                if self._validate_branch(branch) is None:
                    continue
                self._valid_tips.add(tip.hash)
            block = self.store.fork_candidate(tip.hash)
            if block is not None:
                return block
        return None

    def _branches(self, lowest_tip: int, params: CurrencyParameters) -> list[list[Candidate]]:
        """Every chain of candidates ending at block `lowest_tip` or later that joins the main chain
        within the fork window, from its first block to its tip (read from the index only)."""
        candidates = self._index()
        head = self.store.head_pointer()
        assert head is not None
        branches = []
        for number in sorted(n for n in candidates.by_number if n >= lowest_tip):
            for tip_hash in sorted(candidates.by_number[number]):
                path = candidates.lineage(tip_hash)
                root = path[-1]
                joined_at = self.store.number_of(root.parent)
                if joined_at is None or root.number != joined_at + 1:
                    continue
                if not is_within_fork_window(number, joined_at, params) or not can_roll_back_to(
                    head[0], joined_at, params
                ):
                    continue
                branches.append(list(reversed(path)))
        return branches

    def _validate_branch(self, branch: list[Candidate]) -> list[tuple[Block, Delta]] | None:
        """The branch's deltas, computed in memory on the store reverted to the fork point; None
        (after forgetting the culprit and its descendants, remembered as invalid) if a block breaks
        a rule."""
        head = self.store.head_pointer()
        assert head is not None
        view = StackedState(self.store)
        for number in range(head[0], branch[0].number - 1, -1):
            delta = self.store.undo_record(number)
            if delta is None:
                raise StoreError(f"no undo record for block {number} inside the fork window")
            view.revert(delta)
        validated = []
        for candidate in branch:
            block = self.store.fork_candidate(candidate.hash)
            if block is None:  # lost from disk: the rest of the branch hangs from nothing
                self._drop(candidate.hash)
                return None
            try:
                delta = validate_block(view, block)
            except RuleViolation as violation:
                self._drop(candidate.hash, str(violation))
                return None
            view.apply(delta, block.hash)
            validated.append((block, delta))
        return validated
