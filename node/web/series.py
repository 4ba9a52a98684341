"""The currency's history as one point per day, for the charts of the currency page.

Walking 100,000 blocks per request is not an option, so a day's point is read from the block
summary of the last block before the day ends (members N, monetary mass M, the UD then): median
times never decrease along the chain, so that block is found by a search over block numbers that
first tries where the day before's count of blocks points (two summary reads when the pace holds),
else gallops from the nearer known bound and halves. The series is cached by head: when the head
moves forward on the same branch only the days since the last whole day are read again; a branch
switch (the cached head is no longer on the chain) reads everything again.
"""

from dataclasses import dataclass

from node.api.pace import take_turn
from node.store import LevelStore
from protocol.state.records import BlockSummary

DAY = 86400
#: Days read between two turns on the event loop (so that a first load does not stall the node).
DAYS_PER_TURN = 64


@dataclass(frozen=True, slots=True)
class DayPoint:
    """The currency at the end of a day (the last point: at the head)."""

    #: Median time the point stands for: the end of its day (midnight UTC), or the head's.
    time: int
    #: The last block before `time`.
    number: int
    members: int
    mass: int
    #: The UD then, in cents.
    dividend: int
    #: Blocks whose median time falls in the day (since the previous point).
    blocks: int


def _point(summary: BlockSummary, time: int, blocks: int) -> DayPoint:
    dividend = summary.dividend * 10**summary.unit_base
    return DayPoint(time, summary.number, summary.members_count, summary.mass, dividend, blocks)


def _median_time(store: LevelStore, number: int) -> int:
    summary = store.block_summary(number)
    if summary is None:
        raise LookupError(f"block {number} has no summary")
    return summary.median_time


def last_before(store: LevelStore, moment: int, low: int, high: int, guess: int | None = None) -> int:
    """The last block of `low..high` whose median time is before `moment`, given that block `low`'s
    is. `guess`, where it probably is (a day usually holds as many blocks as the day before), is
    checked first: two reads when right; else the search gallops from the nearer known bound, then
    halves."""
    if guess is not None and low < guess <= high:
        if _median_time(store, guess) >= moment:
            return _halve(store, moment, low, guess)
        if guess == high or _median_time(store, guess + 1) >= moment:
            return guess
        low = guess + 1
    step, bound = 1, low
    while bound < high and _median_time(store, min(high, bound + step)) < moment:
        bound = min(high, bound + step)
        step *= 2
    top = min(high, bound + step)  # its median time is ≥ moment, unless it is `high`
    if _median_time(store, top) < moment:
        return top
    return _halve(store, moment, bound, top)


def _halve(store: LevelStore, moment: int, bound: int, top: int) -> int:
    """The last block before `moment` in `bound..top`, block `bound` being before it and `top` not."""
    while top - bound > 1:
        middle = (bound + top) // 2
        if _median_time(store, middle) < moment:
            bound = middle
        else:
            top = middle
    return bound


class SeriesCache:
    """The daily series of one store, kept for its head (see the module's docstring)."""

    def __init__(self, period: int = DAY) -> None:
        #: Seconds between two points: a day (another period only for benchmarks and tests).
        self.period = period
        self.head: tuple[int, bytes] | None = None
        #: The whole days' points (the head's partial day is added when answering).
        self.days: list[DayPoint] = []
        self.last: DayPoint | None = None
        #: Counts of full and incremental computations (for tests and the benchmark).
        self.full_builds = 0
        self.extensions = 0

    async def series(self, store: LevelStore) -> list[DayPoint]:
        """One point per day since block 0, then the head's."""
        pointer = store.head_pointer()
        if pointer is None:
            return []
        number, block_hash = pointer[0], bytes(pointer[1])
        if self.head == (number, block_hash) and self.last is not None:
            return [*self.days, self.last]
        on_branch = (
            self.head is not None
            and self.head[0] <= number
            and store.block_hash(self.head[0]) == self.head[1]
        )
        if on_branch:
            self.extensions += 1
        else:
            self.days = []
            self.full_builds += 1
        days = await self._extend(store, list(self.days), number, self.period)
        head = store.block_summary(number)
        if head is None or store.head_pointer() != pointer:
            return [*days, *([] if head is None else [_point(head, head.median_time, 0)])]
        previous = days[-1].number if days else -1
        self.days, self.head = days, (number, block_hash)
        self.last = _point(head, head.median_time, number - previous)
        return [*self.days, self.last]

    @staticmethod
    async def _extend(store: LevelStore, days: list[DayPoint], head: int, period: int) -> list[DayPoint]:
        """`days` followed by the whole days (of `period` seconds) ended since, up to block `head`."""
        head_time = _median_time(store, head)
        if days:
            previous, moment = days[-1].number, days[-1].time + period
        else:
            previous, moment = -1, (_median_time(store, 0) // period + 1) * period
        count, pace = 0, days[-1].blocks if days else 1
        while moment <= head_time:
            # block 0 is before the first moment, and each day's last block before the next one
            number = last_before(store, moment, max(previous, 0), head, guess=previous + max(pace, 1))
            summary = store.block_summary(number)
            if summary is not None:
                days.append(_point(summary, moment, number - previous))
            previous, moment, pace = number, moment + period, number - previous
            count += 1
            if count % DAYS_PER_TURN == 0:
                await take_turn()
        return days
