"""Block production rules: time, issuers frame, common difficulty, personalised difficulty, size.

rules.md §6.2–6.6 (BR_G04–G09, G16–G18, G50, G54–G57, G60–G62). Every value is computed from the
summaries of past blocks, so the forger writes them and every peer recomputes and compares them.
"""

import math
import statistics
from collections import deque
from dataclasses import dataclass
from itertools import islice

from protocol.crypto import Hash, PublicKey
from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.params import POW_DIFFICULTY_RANGE_RATIO, CurrencyParameters
from protocol.state.records import BlockSummary
from protocol.state.view import StateView

#: The size under which a block is always small enough (BR_G50).
MIN_MAX_BLOCK_SIZE = 500


@dataclass(frozen=True, slots=True)
class HeaderFields:
    """The header values a block after the head must carry (all but time, nonce and content)."""

    number: int
    median_time: int
    issuers_count: int
    issuers_frame: int
    issuers_frame_var: int
    diff_number: int
    pow_min: int


def _summary(view: StateView, number: int) -> BlockSummary:
    summary = view.block_summary(number)
    if summary is None:
        raise ValueError(f"the state has no summary of block {number}")
    return summary


def compute_median_time(
    view: StateView, params: CurrencyParameters, number: int, frame: "IssuersFrame | None" = None
) -> int:
    """max(HEAD~1.medianTime, floor(mean of the last min(medianTimeBlocks, number) times)) (BR_G08).

    `frame`, the issuers frame before block `number`, spares the reads of the blocks it holds."""
    count = min(params.median_time_blocks, number)
    summaries = None if frame is None else frame.newest(count)
    if summaries is None:
        summaries = [_summary(view, number - k) for k in range(1, count + 1)]
    return max(summaries[0].median_time, sum(s.time for s in summaries) // len(summaries))


def frame_summaries(view: StateView, number: int) -> list[BlockSummary]:
    """The summaries of the current issuers frame before block `number` > 0, the newest first:
    read once per block, shared by the issuers count and the personalised difficulty."""
    previous = _summary(view, number - 1)
    return [previous] + [_summary(view, number - k) for k in range(2, _frame_length(previous, number) + 1)]


def _frame_length(previous: BlockSummary, number: int) -> int:
    """How many blocks the frame before block `number` holds (HEAD~1 always)."""
    return max(1, min(previous.issuers_frame, number))


@dataclass(slots=True)
class IssuersFrame:
    """The issuers frame before block `number` > 0: its summaries (the newest first), the blocks per
    issuer and each issuer's newest block, so that the counts a block's difficulty needs are at hand
    and the frame can move on by one block instead of being read again."""

    number: int
    head_hash: Hash | None
    summaries: deque[BlockSummary]
    counts: dict[PublicKey, int]
    latest: dict[PublicKey, BlockSummary]

    @classmethod
    def of(cls, summaries: list[BlockSummary], head_hash: Hash | None = None) -> "IssuersFrame":
        """The frame of `summaries`, as `frame_summaries` gives them."""
        frame = cls(summaries[0].number + 1, head_hash, deque(), {}, {})
        for summary in summaries:
            frame._push_oldest(summary)
        return frame

    @classmethod
    def read(cls, view: StateView, number: int) -> "IssuersFrame":
        return cls.of(frame_summaries(view, number), view.block_hash(number - 1))

    @property
    def previous(self) -> BlockSummary:
        """HEAD~1, the newest block of the frame."""
        return self.summaries[0]

    def newest(self, count: int) -> list[BlockSummary] | None:
        """The `count` newest summaries (blocks number−1 … number−count), if the frame holds them."""
        if count > len(self.summaries):
            return None
        return list(islice(self.summaries, count))

    def advance(self, view: StateView, head_hash: Hash) -> None:
        """Move on to the frame before block `number` + 1, whose HEAD~1 (block `number`) has
        `head_hash`: one read for the new block, and one per block the frame grows by."""
        number = self.number + 1
        previous = _summary(view, number - 1)
        self.number, self.head_hash = number, head_hash
        summaries, counts, latest = self.summaries, self.counts, self.latest
        summaries.appendleft(previous)
        counts[previous.issuer] = counts.get(previous.issuer, 0) + 1
        latest[previous.issuer] = previous
        length = _frame_length(previous, number)
        while len(summaries) > length:
            oldest = summaries.pop()
            left = counts[oldest.issuer] - 1
            if left:
                counts[oldest.issuer] = left
            else:
                del counts[oldest.issuer], latest[oldest.issuer]
        while len(summaries) < length:
            self._push_oldest(_summary(view, number - 1 - len(summaries)))

    def _push_oldest(self, summary: BlockSummary) -> None:
        self.summaries.append(summary)
        self.counts[summary.issuer] = self.counts.get(summary.issuer, 0) + 1
        self.latest.setdefault(summary.issuer, summary)


class FrameCache:
    """The issuers frame of the last block a caller checked, moved on from block to block.

    A replay checks every block on the state its predecessor left, so the frame of the next block is
    the last one plus one block (and minus the oldest): reading the whole frame again costs
    issuersFrame reads per block. The cache is a memo only: a frame is reused when the head it
    follows is the one cached or its child (by number and hash), and read afresh otherwise, so the
    rules see the same values with or without it.
    """

    __slots__ = ("_frame",)

    def __init__(self) -> None:
        self._frame: IssuersFrame | None = None

    def frame(self, view: StateView, number: int) -> IssuersFrame:
        """The frame before block `number` > 0 on `view`."""
        head_hash = view.block_hash(number - 1)
        frame = self._frame
        if frame is not None and head_hash is not None and frame.head_hash is not None:
            if frame.number == number and frame.head_hash == head_hash:
                return frame
            if frame.number == number - 1 and view.block_hash(number - 2) == frame.head_hash:
                frame.advance(view, head_hash)
                return frame
        self._frame = frame = IssuersFrame.read(view, number)
        return frame


Frame = list[BlockSummary] | IssuersFrame


def _as_frame(view: StateView, number: int, frame: Frame | None) -> IssuersFrame:
    if frame is None:
        return IssuersFrame.read(view, number)
    return frame if isinstance(frame, IssuersFrame) else IssuersFrame.of(frame)


def compute_issuers(view: StateView, number: int, summaries: Frame | None = None) -> tuple[int, int, int]:
    """(issuersCount, issuersFrame, issuersFrameVar) of block `number` > 0 (BR_G04–G06)."""
    frame = _as_frame(view, number, summaries)
    previous = frame.previous
    count = len(frame.counts)
    if previous.issuers_frame_var > 0:
        frame_size, adjust = previous.issuers_frame + 1, -1
    elif previous.issuers_frame_var < 0:
        frame_size, adjust = previous.issuers_frame - 1, 1
    else:
        frame_size, adjust = previous.issuers_frame, 0
    var = previous.issuers_frame_var + 5 * (count - previous.issuers_count) + adjust
    return count, frame_size, var


def compute_pow_min(
    view: StateView, params: CurrencyParameters, number: int, median_time: int
) -> tuple[int, int]:
    """(diffNumber, powMin) of block `number` > 0: re-evaluated every dtDiffEval blocks (BR_G09, G16, G17)."""
    previous = _summary(view, number - 1)
    if previous.diff_number > number:
        return previous.diff_number, previous.pow_min
    diff_number = previous.diff_number + params.dt_diff_eval
    span = min(params.dt_diff_eval, number)
    elapsed = median_time - _summary(view, number - span).median_time
    speed = 100.0 if elapsed == 0 else span / elapsed
    pow_min = previous.pow_min
    if speed >= 1 / params.min_gen_time:
        pow_min += 2 if (pow_min + 2) % 16 == 0 else 1
    elif speed <= 1 / params.max_gen_time:
        pow_min = max(0, pow_min - (2 if pow_min % 16 == 0 else 1))
    return diff_number, pow_min


def compute_header(
    view: StateView, params: CurrencyParameters, number: int, frame: Frame | None = None
) -> HeaderFields:
    """Every computed header field of block `number` > 0 on `view`."""
    issuers = _as_frame(view, number, frame)
    median_time = compute_median_time(view, params, number, issuers)
    issuers_count, frame_size, var = compute_issuers(view, number, issuers)
    diff_number, pow_min = compute_pow_min(view, params, number, median_time)
    return HeaderFields(number, median_time, issuers_count, frame_size, var, diff_number, pow_min)


def compute_personal_difficulty(
    view: StateView,
    params: CurrencyParameters,
    issuer: bytes,
    number: int,
    pow_min: int,
    frame: Frame | None = None,
) -> int:
    """The issuer's difficulty for block `number` > 0, from the blocks of the current frame (BR_G18)."""
    issuers = _as_frame(view, number, frame)
    last = issuers.latest.get(issuer)  # type: ignore[call-overload]
    return personal_difficulty(
        pow_min=pow_min,
        counts=list(issuers.counts.values()),
        personal=issuers.counts.get(issuer, 0),  # type: ignore[call-overload]
        previous_issuers=0 if last is None else last.issuers_count,
        blocks_since=0 if last is None else issuers.previous.number - last.number,
        percent_rot=params.percent_rot,
    )


def personal_difficulty(
    *,
    pow_min: int,
    counts: list[int],
    personal: int,
    previous_issuers: int,
    blocks_since: int,
    percent_rot: float,
) -> int:
    """powMin, raised by rotation (a recent issuer waits) and by a handicap (a frequent one pays).

    `counts` are the blocks per issuer in the frame, `personal` this issuer's, `previous_issuers`
    the issuers count of its last block and `blocks_since` how long ago that was (rules.md §6.5).
    """
    median = max(1.0, float(statistics.median(counts))) if counts else 1.0
    excess = max(0.0, (personal + 1) / median - 1)
    handicap = math.floor(math.log(1 + excess) / math.log(POW_DIFFICULTY_RANGE_RATIO))
    rotation = math.floor(percent_rot * previous_issuers / (1 + blocks_since))
    difficulty = max(pow_min, pow_min * rotation) + handicap
    if (difficulty + 1) % 16 == 0:
        difficulty += 1
    return difficulty


def is_hash_valid(block_hash: Hash, difficulty: int) -> bool:
    """The hash starts with difficulty // 16 zeros, then a hex digit ≤ F − difficulty % 16 (BR_G62)."""
    text = block_hash.hex().upper()
    zeros, remainder = divmod(difficulty, 16)
    if not text.startswith("0" * zeros):
        return False
    return remainder == 0 or int(text[zeros], 16) <= 15 - remainder


def compute_max_block_size(
    view: StateView, number: int, issuers_count: int, frame: IssuersFrame | None = None
) -> int:
    """A block must be smaller than max(500, ceil(1.1 · average size of the last issuersCount blocks)).

    `frame`, the issuers frame before block `number`, spares the reads of the blocks it holds."""
    count = min(issuers_count, number)
    if count == 0:
        return MIN_MAX_BLOCK_SIZE
    summaries = None if frame is None else frame.newest(count)
    if summaries is None:
        summaries = [_summary(view, number - k) for k in range(1, count + 1)]
    average = sum(s.size for s in summaries) // count
    return max(MIN_MAX_BLOCK_SIZE, math.ceil(1.1 * average))


def check_production(
    view: StateView,
    params: CurrencyParameters,
    block: Block,
    *,
    proof_of_work: bool = True,
    frames: FrameCache | None = None,
) -> int:
    """Time, issuers frame, difficulty, proof of work and size of `block`; returns its diffNumber.

    `frames` carries the issuers frame from one block to the next (a replay's); without it the
    frame is read from `view`."""
    # Verify the time is within [medianTime, medianTime + maxAcceleration]; equal in block 0.
    if block.number == 0:
        if block.time != block.median_time:
            raise RuleViolation("checkBlockTimes", "block 0's time must equal its median time")
        if (block.issuers_count, block.issuers_frame, block.issuers_frame_var) != (0, 1, 0):
            raise RuleViolation("BR_G55", "block 0 has issuers count 0, frame 1 and frame variation 0")
        return params.dt_diff_eval
    latest = block.median_time + params.max_acceleration
    if not block.median_time <= block.time <= latest:
        raise RuleViolation(
            "checkBlockTimes", f"time {block.time} is outside [{block.median_time}, {latest}]"
        )
    frame = IssuersFrame.read(view, block.number) if frames is None else frames.frame(view, block.number)
    header = compute_header(view, params, block.number, frame)
    # Verify every computed header field.
    for code, name, written, expected in (
        ("BR_G57", "median time", block.median_time, header.median_time),
        ("BR_G54", "issuers count", block.issuers_count, header.issuers_count),
        ("BR_G55", "issuers frame", block.issuers_frame, header.issuers_frame),
        ("BR_G56", "issuers frame variation", block.issuers_frame_var, header.issuers_frame_var),
        ("BR_G61", "powMin", block.pow_min, header.pow_min),
    ):
        if written != expected:
            raise RuleViolation(code, f"{name} is {written}, expected {expected}")
    # Verify the block is small enough.
    size, limit = (
        compute_block_size(block),
        compute_max_block_size(view, block.number, header.issuers_count, frame),
    )
    if size >= limit:
        raise RuleViolation("BR_G50", f"block size is {size}, it must be below {limit}")
    # Verify the proof of work meets the issuer's personalised difficulty.
    if not proof_of_work:
        return header.diff_number
    difficulty = compute_personal_difficulty(view, params, block.issuer, block.number, header.pow_min, frame)
    if not is_hash_valid(block.hash, difficulty):
        raise RuleViolation(
            "BR_G62", f"hash {block.hash.hex().upper()[:16]}… does not meet difficulty {difficulty}"
        )
    return header.diff_number


def compute_block_size(block: Block) -> int:
    """The block's size as Duniter counts it (`BlockDTO.len`, rules.md §6.6): the rows of identities,
    joiners, actives, leavers, revocations and certifications plus the transactions' compact lines.
    Excluded rows do not count."""
    rows = (
        len(block.identities)
        + len(block.joiners)
        + len(block.actives)
        + len(block.leavers)
        + len(block.revocations)
        + len(block.certifications)
    )
    return rows + sum(tx.compact_line_count() for tx in block.transactions)
