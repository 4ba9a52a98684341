"""Block production rules: time, issuers frame, common difficulty, personalised difficulty, size.

rules.md §6.2–6.6 (BR_G04–G09, G16–G18, G50, G54–G57, G60–G62). Every value is computed from the
summaries of past blocks, so the forger writes them and every peer recomputes and compares them.
"""

import math
import statistics
from collections import Counter
from dataclasses import dataclass

from protocol.crypto import Hash
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


def compute_median_time(view: StateView, params: CurrencyParameters, number: int) -> int:
    """max(HEAD~1.medianTime, floor(mean of the last min(medianTimeBlocks, number) times)) (BR_G08)."""
    previous = _summary(view, number - 1)
    count = min(params.median_time_blocks, number)
    times = [_summary(view, number - k).time for k in range(1, count + 1)]
    return max(previous.median_time, sum(times) // len(times))


def frame_summaries(view: StateView, number: int) -> list[BlockSummary]:
    """The summaries of the current issuers frame before block `number` > 0, the newest first:
    read once per block, shared by the issuers count and the personalised difficulty."""
    previous = _summary(view, number - 1)
    return [previous] + [
        _summary(view, number - k) for k in range(2, min(previous.issuers_frame, number) + 1)
    ]


def compute_issuers(
    view: StateView, number: int, summaries: list[BlockSummary] | None = None
) -> tuple[int, int, int]:
    """(issuersCount, issuersFrame, issuersFrameVar) of block `number` > 0 (BR_G04–G06)."""
    summaries = frame_summaries(view, number) if summaries is None else summaries
    previous = summaries[0]
    count = len({summary.issuer for summary in summaries})
    if previous.issuers_frame_var > 0:
        frame, adjust = previous.issuers_frame + 1, -1
    elif previous.issuers_frame_var < 0:
        frame, adjust = previous.issuers_frame - 1, 1
    else:
        frame, adjust = previous.issuers_frame, 0
    var = previous.issuers_frame_var + 5 * (count - previous.issuers_count) + adjust
    return count, frame, var


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
    view: StateView, params: CurrencyParameters, number: int, frame: list[BlockSummary] | None = None
) -> HeaderFields:
    """Every computed header field of block `number` > 0 on `view`."""
    median_time = compute_median_time(view, params, number)
    issuers_count, frame_size, var = compute_issuers(view, number, frame)
    diff_number, pow_min = compute_pow_min(view, params, number, median_time)
    return HeaderFields(number, median_time, issuers_count, frame_size, var, diff_number, pow_min)


def compute_personal_difficulty(
    view: StateView,
    params: CurrencyParameters,
    issuer: bytes,
    number: int,
    pow_min: int,
    frame: list[BlockSummary] | None = None,
) -> int:
    """The issuer's difficulty for block `number` > 0, from the blocks of the current frame (BR_G18)."""
    frame = frame_summaries(view, number) if frame is None else frame
    previous = frame[0]
    counts = Counter(summary.issuer for summary in frame)
    last = next((summary for summary in frame if summary.issuer == issuer), None)
    return personal_difficulty(
        pow_min=pow_min,
        counts=list(counts.values()),
        personal=sum(1 for summary in frame if summary.issuer == issuer),
        previous_issuers=0 if last is None else last.issuers_count,
        blocks_since=0 if last is None else previous.number - last.number,
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


def compute_max_block_size(view: StateView, number: int, issuers_count: int) -> int:
    """A block must be smaller than max(500, ceil(1.1 · average size of the last issuersCount blocks))."""
    count = min(issuers_count, number)
    if count == 0:
        return MIN_MAX_BLOCK_SIZE
    average = sum(_summary(view, number - k).size for k in range(1, count + 1)) // count
    return max(MIN_MAX_BLOCK_SIZE, math.ceil(1.1 * average))


def check_production(
    view: StateView, params: CurrencyParameters, block: Block, *, proof_of_work: bool = True
) -> int:
    """Time, issuers frame, difficulty, proof of work and size of `block`; returns its diffNumber."""
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
    frame = frame_summaries(view, block.number)
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
    size, limit = compute_block_size(block), compute_max_block_size(view, block.number, header.issuers_count)
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
