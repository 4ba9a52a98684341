"""Distance rule speed on the real Ğ1 web of trust and on a synthetic 10,000 × 25 one.

Reference, measured in the same run: one plain breadth-first search per member over dict-of-set
adjacency, timed on a sample and extrapolated to every member.
"""

import gzip
import json
import random
import statistics
import time

from _common import shared_dir

from protocol.wot import DistanceEvaluator, sentry_threshold


def naive_reach(received: dict[int, set[int]], candidate: int, step_max: int) -> set[int]:
    seen: set[int] = set()
    frontier = {candidate}
    for _ in range(step_max):
        frontier = {a for n in frontier for a in received.get(n, ())} - seen
        seen |= frontier
    return seen


def measure(
    name: str, links: list[tuple[int, int]], members: set[int], one_target: float, all_target: float
) -> None:
    d_sen = sentry_threshold(len(members), 5)
    start = time.perf_counter()
    evaluator = DistanceEvaluator(links, d_sen=d_sen, step_max=5, members=members)
    prepare = time.perf_counter() - start
    sample = random.Random(7).sample(sorted(members), 200)
    singles = []
    for node in sample:
        start = time.perf_counter()
        evaluator.evaluate(node, x_percent=0.8)
        singles.append(time.perf_counter() - start)
    one = statistics.median(singles)
    start = time.perf_counter()
    results = DistanceEvaluator(links, d_sen=d_sen, step_max=5, members=members).evaluate_all(
        members, x_percent=0.8
    )
    every = time.perf_counter() - start
    received: dict[int, set[int]] = {}
    for a, b in links:
        received.setdefault(b, set()).add(a)
    naive_sample = sample[:30]
    start = time.perf_counter()
    for node in naive_sample:
        naive_reach(received, node, 5)
    naive_one = (time.perf_counter() - start) / len(naive_sample)
    naive_all = naive_one * len(members)
    outdistanced = sum(r.outdistanced for r in results.values())
    print(
        f"== {name}: {len(members)} members, {len(links)} links, dSen {d_sen}, {evaluator.sentries} sentries"
    )
    print(f"   preparation (index, sentries)   {prepare * 1000:8.1f} ms")
    one_verdict = "OK" if one < one_target else "MISSED"
    all_verdict = "OK" if every < all_target else "MISSED"
    print(
        f"   one candidate (median of 200)   {one * 1000:8.2f} ms   target < {one_target * 1000:.0f} ms "
        f"{one_verdict}   naive BFS {naive_one * 1000:.1f} ms: {naive_one / one:.1f}x faster"
    )
    print(
        f"   every member (incl. prep)       {every:8.3f} s    target < {all_target} s "
        f"{all_verdict}   naive BFS ~{naive_all:.1f} s: {naive_all / every:.0f}x faster"
    )
    print(f"   outdistanced members: {outdistanced} of {len(members)}")


def main() -> None:
    data = json.loads(gzip.decompress((shared_dir() / "data" / "g1-wot-2023-09.json.gz").read_bytes()))
    links = [(a, b) for a, b in data["certifications"]]
    measure("real Ğ1 WoT, September 2023", links, set(data["members"]), 0.002, 0.3)
    rng = random.Random(11)
    size = 10_000
    synthetic = {(a, b) for a in range(size) for b in rng.sample(range(size), 26) if a != b}
    synthetic_links = list(synthetic)[: size * 25]
    measure(
        "synthetic WoT, 10,000 members × 25 certifications", synthetic_links, set(range(size)), 0.005, 2.0
    )


if __name__ == "__main__":
    main()
