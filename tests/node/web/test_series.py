"""The charts' daily series: the same points as a walk over every block, kept by head, extended
when the head moves forward, read again after a branch switch; and the SVG it is drawn with."""

from pathlib import Path

from node.chain import ChainManager
from node.store import LevelStore
from node.web.charts import ChartText, line_chart, nice_ticks, thin
from node.web.series import DAY, DayPoint, SeriesCache, last_before
from protocol.state.records import BlockSummary
from tests.protocol.chain_builder import Chain


def walked(store: LevelStore) -> list[DayPoint]:
    """The series by brute force: every block's summary, grouped by the day its median time is in."""
    pointer = store.head_pointer()
    assert pointer is not None
    summaries = [store.block_summary(n) for n in range(pointer[0] + 1)]
    points, previous = [], -1
    assert summaries[0] is not None
    moment = (summaries[0].median_time // DAY + 1) * DAY
    head = summaries[-1]
    assert head is not None
    while moment <= head.median_time:
        before = [s for s in summaries if s is not None and s.median_time < moment]
        last = before[-1]
        points.append(point(moment, last, last.number - previous))
        previous, moment = last.number, moment + DAY
    points.append(point(head.median_time, head, head.number - previous))
    return points


def point(moment: int, summary: BlockSummary, blocks: int) -> DayPoint:
    ud = summary.dividend * 10**summary.unit_base
    return DayPoint(moment, summary.number, summary.members_count, summary.mass, ud, blocks)


def grown_chain() -> Chain:
    chain = Chain(founders=4)
    for _ in range(4):
        chain.advance(DAY // 3)
    chain.advance(3 * DAY)  # days without blocks in between are possible too
    chain.write(transactions=[chain.pay("alice", {"bob": 100})])
    chain.advance(DAY)
    return chain


async def test_series_match_a_walk_and_follow_the_head(tmp_path: Path) -> None:
    chain = grown_chain()
    store = LevelStore.open(tmp_path / "db")
    try:
        manager = ChainManager(store)
        half = len(chain.blocks) // 2
        for block in chain.blocks[:half]:
            manager.add_block(block)
        cache = SeriesCache()
        assert await cache.series(store) == walked(store)
        assert await cache.series(store) == walked(store)  # answered from the cache
        assert (cache.full_builds, cache.extensions) == (1, 0)
        for block in chain.blocks[half:]:
            manager.add_block(block)
        extended = await cache.series(store)
        assert (cache.full_builds, cache.extensions) == (1, 1)
        assert extended == walked(store) == await SeriesCache().series(store)
        assert len(extended) > 4 and sum(p.blocks for p in extended) == len(chain.blocks)
        assert extended[-1].members == 4 and extended[-1].dividend > 0
        # a branch switch: the block the cache stood on is replaced by another at the same height
        store.revert_head()
        chain.revert()
        chain.write(time=chain.blocks[-1].time + 60)
        manager.add_block(chain.blocks[-1])
        assert await cache.series(store) == walked(store)
        assert cache.full_builds == 2
    finally:
        store.close()


async def test_last_before_is_a_search_over_median_times(tmp_path: Path) -> None:
    chain = grown_chain()
    store = LevelStore.open(tmp_path / "db")
    try:
        manager = ChainManager(store)
        for block in chain.blocks:
            manager.add_block(block)
        head = len(chain.blocks) - 1
        times = [b.median_time for b in chain.blocks]
        for moment in sorted({t + d for t in times for d in (0, 1)}):
            expected = max(n for n, t in enumerate(times) if t < moment) if times[0] < moment else None
            if expected is not None:
                assert last_before(store, moment, 0, head) == expected
                for guess in range(1, head + 1):  # a guess, right or wrong, does not change it
                    assert last_before(store, moment, 0, head, guess=guess) == expected
    finally:
        store.close()


def test_nice_ticks_and_thinning() -> None:
    assert nice_ticks(0, 9) == [0, 5, 10]
    assert nice_ticks(0, 100) == [0, 50, 100]
    assert nice_ticks(0, 1234)[-1] >= 1234
    assert nice_ticks(5, 5)[0] <= 5
    points = [(i, float(i)) for i in range(2000)]
    kept = thin(points, 600)
    assert len(kept) <= 601 and kept[-1] == points[-1] and kept[0] == points[0]


def test_a_chart_escapes_its_texts_and_draws_every_point() -> None:
    text = ChartText("<b>N</b>", lambda v: f"{v:g}<", lambda t: f"day {t}")
    svg = line_chart([(0, 1.0), (DAY, 3.0), (2 * DAY, 2.0)], text, "c")
    assert "<b>" not in svg and "&lt;b&gt;N&lt;/b&gt;" in svg and "&lt;</text>" in svg
    polyline = svg.split('points="')[1].split('"')[0].split()
    assert len(polyline) == 3
    assert "day 0" in svg and f"day {2 * DAY}" in svg
    assert line_chart([], text, "c").endswith("</svg>")
