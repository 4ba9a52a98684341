"""`StackedState`: a view that moves blocks back and forth in memory on top of another view.

The node uses it to validate a fork branch without touching its store: revert the main chain to
the fork point with the undo records, then apply the branch's blocks, all in memory; only a
branch found valid and better is then written, in one batch.
"""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from protocol.crypto import Hash, PublicKey
from protocol.documents.transaction import TransactionSource
from protocol.state.delta import Delta
from protocol.state.overlay import Overlay
from protocol.state.records import BlockSummary, DividendRecord
from protocol.state.tables import BLOCK, Table
from protocol.state.view import StateView
from protocol.wot.graph import WebOfTrust

K = TypeVar("K")
V = TypeVar("V")


class StackedState(StateView):
    """`base` with blocks reverted and applied in memory."""

    def __init__(self, base: StateView) -> None:
        self.base = base
        head = base.head()
        self.number = -1 if head is None else head.number
        self._digest = base.state_digest()
        self._hashes: dict[int, Hash | None] = {}
        self._tables = Overlay(base, self.number + 1)
        self._moves: list[tuple[bool, Delta]] = []  # (applied?, delta), replayed on the base's graph
        self._wot: WebOfTrust | None = None

    def revert(self, delta: Delta) -> None:
        """Undo the head block, given its delta."""
        if delta.number != self.number or delta.digest != self._digest:
            raise ValueError(f"delta of block {delta.number} is not the head's")
        for table, key, _after, before in delta.inverse_rows():
            self._tables.write_named(table, key, before)
        self._hashes[self.number] = None
        self.number -= 1
        self._digest = delta.previous_digest
        self._move(False, delta)

    def apply(self, delta: Delta, block_hash: Hash) -> None:
        """Put block `delta.number` (hash `block_hash`) on top."""
        if delta.number != self.number + 1 or delta.previous_digest != self._digest:
            raise ValueError(f"delta of block {delta.number} does not follow head {self.number}")
        for table, key, _before, after in delta.rows():
            self._tables.write_named(table, key, after)
        self.number += 1
        self._hashes[self.number] = block_hash
        self._digest = delta.digest
        self._move(True, delta)

    def _move(self, applied: bool, delta: Delta) -> None:
        if self._wot is None:
            self._moves.append((applied, delta))
        elif applied:
            self._wot.apply(delta)
        else:
            self._wot.revert(delta)

    def web_of_trust(self) -> WebOfTrust:
        """A copy of the base's graph moved by the same deltas as this stack (a fork's branch)."""
        if self._wot is None:
            graph = self.base.web_of_trust().copy()
            try:
                for applied, delta in self._moves:
                    graph.apply(delta) if applied else graph.revert(delta)
            except ValueError:  # the base moved since this stack was made: build from our tables
                graph = WebOfTrust.build(self)
            self._wot, self._moves = graph, []
        return self._wot

    # StateView ---------------------------------------------------------------------------------

    def read(self, table: Table[K, V], key: K) -> V | None:
        if table is BLOCK and not 0 <= key <= self.number:  # type: ignore[operator]
            return None
        return self._tables.read(table, key)

    def head(self) -> BlockSummary | None:
        return self.block_summary(self.number) if self.number >= 0 else None

    def block_hash(self, number: int) -> Hash | None:
        if not 0 <= number <= self.number:
            return None
        if number in self._hashes:
            return self._hashes[number]
        return self.base.block_hash(number)

    def state_digest(self) -> Hash:
        return self._digest

    def members(self) -> Iterable[PublicKey]:
        return self._tables.members()

    def members_to_kick(self) -> Iterable[PublicKey]:
        return self._tables.members_to_kick()

    def certifiers_of(self, receiver: PublicKey) -> Iterable[PublicKey]:
        return self._tables.certifiers_of(receiver)

    def certified_by(self, issuer: PublicKey) -> Iterable[PublicKey]:
        return self._tables.certified_by(issuer)

    def all_certifications(self) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._tables.all_certifications()

    def certifications_expiring(self, until: int) -> Iterable[tuple[PublicKey, PublicKey]]:
        return self._tables.certifications_expiring(until)

    def memberships_expiring(self, until: int) -> Iterable[PublicKey]:
        return self._tables.memberships_expiring(until)

    def memberships_revoking(self, until: int) -> Iterable[PublicKey]:
        return self._tables.memberships_revoking(until)

    def transaction_sources_of(self, conditions: str) -> Iterable[TransactionSource]:
        return self._tables.transaction_sources_of(conditions)

    def dividend_numbers(self, start: int, stop: int) -> Iterator[int]:
        return self._tables.dividend_numbers(start, stop)

    def last_dividend(self, number: int) -> tuple[int, DividendRecord] | None:
        return self._tables.last_dividend(number)
