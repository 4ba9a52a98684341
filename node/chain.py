"""The node's chain: the head, new blocks, fork candidates and branch switches (rules.md §6.7).

A block that extends the head is validated on the store and applied in one batch. Any other block
within the fork window is kept as a candidate (persisted, bounded). After each block the best
candidate branch is considered: if the fork rule prefers it, it is validated in memory on top of
the store reverted to the fork point, and only then written, reverting and applying in one batch,
so a crash leaves either branch whole. Blocks found invalid are remembered and never fetched or
validated again.
"""

from dataclasses import dataclass
from enum import StrEnum

from node.errors import StoreError
from node.store import LevelStore
from protocol.crypto import Hash, hash_hex
from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.fork import BranchHead, choose_branch, is_within_fork_window
from protocol.params import CurrencyParameters
from protocol.rules.block import validate_block
from protocol.state.delta import Delta
from protocol.state.stack import StackedState

#: Most fork candidates kept; beyond it the oldest (lowest numbers) are dropped first.
MAX_FORK_CANDIDATES = 1000


class Outcome(StrEnum):
    APPLIED = "applied"  # the block extended the head
    SWITCHED = "switched"  # the block completed a better branch, which is now the chain
    CANDIDATE = "candidate"  # kept as a fork candidate
    KNOWN = "known"  # already in the chain or among the candidates
    INVALID = "invalid"  # breaks a rule (now or before): the sender is to blame
    TOO_OLD = "too-old"  # forks beyond the fork window


@dataclass(frozen=True)
class AddResult:
    outcome: Outcome
    reason: str = ""


class ChainManager:
    """The chain of one node over its `LevelStore`."""

    def __init__(self, store: LevelStore, *, genesis_hash: Hash | None = None) -> None:
        self.store = store
        self.genesis_hash = genesis_hash or store.genesis_hash()
        self._valid_tips: set[bytes] = set()  # heads of candidate branches found valid

    @property
    def params(self) -> CurrencyParameters | None:
        chain = self.store.chain()
        return None if chain is None else chain.parameters

    def head(self) -> tuple[int, Hash, Hash] | None:
        return self.store.head_pointer()

    def add_block(self, block: Block, *, durable: bool = True) -> AddResult:
        """Take a block from anywhere (a peer, the forger, an import) and say what became of it.

        `durable=False` lets a download skip the disk sync of a block that is not the last of its
        batch (see `LevelStore.apply_block`)."""
        block_hash = block.hash
        reason = self.store.invalid_reason(block_hash)
        if reason is not None:
            return AddResult(Outcome.INVALID, reason)
        if self.store.number_of(block_hash) is not None or self.store.has_fork_candidate(block_hash):
            return AddResult(Outcome.KNOWN)
        head = self.store.head_pointer()
        if head is None:
            return self._add_genesis(block)
        number, head_hash, _digest = head
        if block.number == number + 1 and block.previous_hash == head_hash:
            result = self._extend(block, durable=durable)
            if result.outcome is Outcome.APPLIED:
                self._extend_with_candidates()
                switched = self._consider_branches()
                return switched or result
            return result
        params = self.params
        assert params is not None
        if block.number <= number - params.fork_window_size:
            return AddResult(Outcome.TOO_OLD, f"block {block.number} is beyond the fork window")
        self.store.put_fork_candidate(block)
        self._bound_candidates(number - params.fork_window_size)
        return self._consider_branches() or AddResult(Outcome.CANDIDATE)

    def _add_genesis(self, block: Block) -> AddResult:
        if self.genesis_hash is not None and block.hash != self.genesis_hash:
            return AddResult(Outcome.INVALID, "not this currency's block 0")
        if block.number != 0:
            self.store.put_fork_candidate(block)
            return AddResult(Outcome.CANDIDATE)
        result = self._extend(block)
        if result.outcome is Outcome.APPLIED:
            self.genesis_hash = block.hash
            self._extend_with_candidates()
        return result

    def _extend(self, block: Block, *, durable: bool = True) -> AddResult:
        try:
            delta = validate_block(self.store, block)
        except RuleViolation as violation:
            self.store.remember_invalid(block.hash, str(violation))
            return AddResult(Outcome.INVALID, str(violation))
        window = 100 if self.params is None else self.params.fork_window_size
        if block.number == 0 and block.parameters is not None:
            window = block.parameters.fork_window_size
        self.store.apply_block(block, delta, fork_window=window, sync=durable)
        return AddResult(Outcome.APPLIED)

    def _extend_with_candidates(self) -> None:
        """Apply candidates that arrived before their parent and now follow the head."""
        while True:
            head = self.store.head_pointer()
            if head is None:
                return
            child = next(
                (
                    c
                    for c in self.store.fork_candidates()
                    if c.number == head[0] + 1 and c.previous_hash == head[1]
                ),
                None,
            )
            if child is None:
                return
            self.store.delete_fork_candidate(child.hash)
            self._extend(child)

    def _bound_candidates(self, oldest: int) -> None:
        candidates = self.store.fork_candidates()
        stale = [c for c in candidates if c.number <= oldest]
        keep = sorted((c for c in candidates if c.number > oldest), key=lambda c: c.number)
        stale.extend(keep[: max(0, len(keep) - MAX_FORK_CANDIDATES)])
        for block in stale:
            self.store.delete_fork_candidate(block.hash)

    def _consider_branches(self) -> AddResult | None:
        """Switch to the best valid branch if the fork rule prefers it to the current chain."""
        params = self.params
        head = self.store.head_pointer()
        if params is None or head is None:
            return None
        current = self.store.block_summary(head[0])
        assert current is not None
        while True:
            branches = self._branches(head[0], params)
            heads = {(branch[-1].number, branch[-1].hash): branch for branch in branches}
            best = choose_branch(
                BranchHead(current.number, current.median_time, head[1]),
                [BranchHead(b[-1].number, b[-1].median_time, b[-1].hash) for b in branches],
                params,
            )
            if best is None:
                return None
            branch = heads[(best.number, Hash(best.hash))]
            validated = self._validate_branch(branch)
            if validated is None:
                continue  # an invalid block was found and forgotten: choose again
            fork_point = branch[0].number - 1
            self.store.replace_branch(head[0] - fork_point, validated, fork_window=params.fork_window_size)
            return AddResult(Outcome.SWITCHED, f"switched at block {fork_point} to head {best.number}")

    def rival_head(self) -> Block | None:
        """The head of a valid branch that ties with the chain or beats it, with a lower hash when
        it ties: the branch a forger should let grow rather than compete with (see `node.forger`).
        Branches are validated here once; invalid ones are forgotten as usual."""
        params, head = self.params, self.store.head_pointer()
        if params is None or head is None:
            return None
        for branch in self._branches(head[0], params):
            tip = branch[-1]
            if tip.number < head[0] or (tip.number == head[0] and tip.hash >= head[1]):
                continue
            if tip.hash not in self._valid_tips:
                if self._validate_branch(branch) is None:
                    continue
                self._valid_tips.add(tip.hash)
            return tip
        return None

    def _branches(self, head_number: int, params: CurrencyParameters) -> list[list[Block]]:
        """Every chain of candidates that joins the main chain within the fork window."""
        candidates = {c.hash: c for c in self.store.fork_candidates()}
        branches = []
        for leaf in candidates.values():
            path = [leaf]
            while path[-1].previous_hash in candidates:
                path.append(candidates[path[-1].previous_hash])
            root = path[-1]
            if root.previous_hash is None:
                continue
            joined_at = self.store.number_of(root.previous_hash)
            if joined_at is None or root.number != joined_at + 1:
                continue
            if not is_within_fork_window(head_number, joined_at, params):
                continue
            branches.append(list(reversed(path)))
        return branches

    def _validate_branch(self, branch: list[Block]) -> list[tuple[Block, Delta]] | None:
        """The branch's deltas, computed in memory on the store reverted to the fork point; None
        (after remembering the culprit and its descendants as invalid) if a block breaks a rule."""
        head = self.store.head_pointer()
        assert head is not None
        view = StackedState(self.store)
        for number in range(head[0], branch[0].number - 1, -1):
            delta = self.store.undo_record(number)
            if delta is None:
                raise StoreError(f"no undo record for block {number} inside the fork window")
            view.revert(delta)
        validated = []
        for position, block in enumerate(branch):
            try:
                delta = validate_block(view, block)
            except RuleViolation as violation:
                for bad in branch[position:]:
                    self.store.remember_invalid(
                        bad.hash, f"{violation} (in block {hash_hex(block.hash)[:16]})"
                    )
                    self.store.delete_fork_candidate(bad.hash)
                return None
            view.apply(delta, block.hash)
            validated.append((block, delta))
        return validated
