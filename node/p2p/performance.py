"""How each peer has served us: answer times and silences, so that work goes to responsive peers.

A peer that let a request time out, or lied about its head, is *resting* for a while (doubling
with each failure in a row, up to `MAX_REST`): it is not asked again until then, so one silent
peer costs one deadline, not one per round or per chunk. A good answer ends the rest and feeds a
moving average of answer times.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Weight of the newest answer time in the moving average.
SMOOTHING = 0.3
FIRST_REST = 2.0
MAX_REST = 120.0
#: Peers remembered; the records of peers long gone are dropped first.
MAX_RECORDS = 2000


@dataclass
class PeerRecord:
    answers: int = 0
    silences: int = 0
    silent_in_a_row: int = 0
    average: float = 0.0  # seconds per answer, moving average
    resting_until: float = 0.0
    seen: float = 0.0


class Performance:
    """Per-peer records, keyed by the text of the peer id."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._records: dict[str, PeerRecord] = {}

    def _record(self, peer: object) -> PeerRecord:
        key = str(peer)
        record = self._records.get(key)
        if record is None:
            if len(self._records) >= MAX_RECORDS:
                del self._records[min(self._records, key=lambda k: self._records[k].seen)]
            record = self._records[key] = PeerRecord()
        record.seen = self._now()
        return record

    def answered(self, peer: object, seconds: float) -> None:
        record = self._record(peer)
        record.average = (
            seconds if record.answers == 0 else (SMOOTHING * seconds + (1 - SMOOTHING) * record.average)
        )
        record.answers += 1
        record.silent_in_a_row = 0
        record.resting_until = 0.0

    def failed(self, peer: object) -> None:
        record = self._record(peer)
        record.silences += 1
        record.silent_in_a_row += 1
        rest = min(MAX_REST, FIRST_REST * 2 ** (record.silent_in_a_row - 1))
        record.resting_until = self._now() + rest

    def is_resting(self, peer: object) -> bool:
        record = self._records.get(str(peer))
        return record is not None and record.resting_until > self._now()

    def average(self, peer: object) -> float | None:
        record = self._records.get(str(peer))
        return None if record is None or record.answers == 0 else record.average

    def fastest_first(self, peers: Iterable[object]) -> list[object]:
        """`peers` not resting, the quickest to answer first (unknown ones after the known)."""
        awake = [p for p in peers if not self.is_resting(p)]
        return sorted(awake, key=lambda p: (self.average(p) is None, self.average(p) or 0.0))

    def summary(self, peer: object) -> PeerRecord | None:
        return self._records.get(str(peer))
