"""Keeping Python's cyclic garbage collector out of a long replay's way.

A replay builds a state of millions of long-lived objects (records, keys, summaries) that are never
part of a reference cycle, yet each full collection walks all of them: on a Ğ1-sized chain that
was about a quarter of the auditor's serial time. `ReplayGc` moves what the replay has built so
far into the collector's permanent generation (`gc.freeze`) at each checkpoint, so that a
collection only walks what was allocated since, and makes the youngest generation collect less
often; on leaving, the objects are handed back to the collector and the thresholds restored.
Objects frozen while still referenced are freed by reference counting as usual when dropped; only
reference cycles among them wait until the end to be collected.
"""

import gc
from types import TracebackType
from typing import Self

#: Allocations between two collections of the youngest generation during a replay (default 700).
REPLAY_THRESHOLD = 50_000


class ReplayGc:
    """A context for a replay: call `checkpoint()` every few hundred blocks."""

    def __init__(self, threshold: int = REPLAY_THRESHOLD) -> None:
        self.threshold = threshold
        self._saved: tuple[int, int, int] | None = None

    def __enter__(self) -> Self:
        self._saved = gc.get_threshold()
        gc.set_threshold(self.threshold, *self._saved[1:])
        gc.freeze()
        return self

    def checkpoint(self) -> None:
        """Freeze everything allocated so far (O(1): the generations are linked lists)."""
        gc.freeze()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        gc.unfreeze()
        if self._saved is not None:
            gc.set_threshold(*self._saved)
