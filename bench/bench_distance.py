"""Distance rule speed on the real Ğ1 web of trust and on a synthetic 10,000 × 25 one.

Reference, measured in the same run: one plain breadth-first search per member over dict-of-set
adjacency, timed on a sample and extrapolated to every member.

Then the live graph a state keeps (`WebOfTrust`, moved by each block's delta): one candidate
against `DistanceEvaluator`; a block of joiners and renewals against today's rebuild from every
certification; the apply and revert of a block's delta against building the graph.
"""

import gzip
import json
import random
import statistics
import time
from collections.abc import Callable

from _common import best_of, shared_dir

from protocol.crypto import ZERO_HASH, Hash
from protocol.state.delta import Delta
from protocol.state.records import CertRecord, IdentityRecord
from protocol.wot import DistanceEvaluator, WebOfTrust, sentry_threshold


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


class ListView:
    """The three reads `WebOfTrust.build` makes of a state, over plain lists."""

    def __init__(self, links: list[tuple[int, int]], members: set[int]) -> None:
        self.links, self.member_set = links, members

    def all_certifications(self) -> list[tuple[int, int]]:
        return self.links

    def members(self) -> set[int]:
        return self.member_set

    def state_digest(self) -> Hash:
        return ZERO_HASH


def median_ms(function: Callable[[int], object], sample: list[int]) -> float:
    times = []
    for node in sample:
        start = time.perf_counter()
        function(node)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure_live_graph(name: str, links: list[tuple[int, int]], members: set[int], one_target: float) -> None:
    """The graph kept in step: one candidate, one block of joiners and renewals, one delta."""
    d_sen = sentry_threshold(len(members), 5)
    build = best_of(3, lambda: WebOfTrust.build(ListView(links, members)))
    graph = WebOfTrust.build(ListView(links, members))
    check = graph.prepare([], d_sen=d_sen, step_max=5)
    evaluator = DistanceEvaluator(links, d_sen=d_sen, step_max=5, members=members)
    sample = random.Random(7).sample(sorted(members), 200)
    live = median_ms(lambda node: check.evaluate(node, x_percent=0.8), sample)
    rebuilt = median_ms(lambda node: evaluator.evaluate(node, x_percent=0.8), sample)
    print(f"== live graph (WebOfTrust), {name}")
    print(f"   build from every link           {build * 1000:8.1f} ms   (once per process)")
    verdict = "OK" if live < one_target * 1000 else "MISSED"
    print(
        f"   one candidate (median of 200)   {live:8.2f} ms   target < {one_target * 1000:.0f} ms "
        f"{verdict}   DistanceEvaluator {rebuilt:.2f} ms: {rebuilt / live:.1f}x faster"
    )
    # A block: 2 joiners certified by 5 members each, 6 renewals, 4 more certifications.
    rng = random.Random(5)
    joiners = [-1, -2]
    renewing = rng.sample(sorted(members), 6)
    block_links = [(issuer, joiner) for joiner in joiners for issuer in rng.sample(sorted(members), 5)]
    block_links += [(rng.choice(renewing), rng.choice(sorted(members))) for _ in range(4)]
    candidates = joiners + renewing

    def incremental() -> None:
        block = graph.prepare(block_links, d_sen=d_sen, step_max=5)
        for key in candidates:
            block.evaluate(key, x_percent=0.8)

    def rebuild() -> None:  # what make_distance_evaluator did: every link read again and indexed
        block = DistanceEvaluator([*links, *block_links], d_sen=d_sen, step_max=5, members=set(members))
        for key in candidates:
            block.evaluate(key, x_percent=0.8)

    block_live, block_rebuilt = best_of(5, incremental), best_of(3, rebuild)
    print(
        f"   block: {len(candidates)} candidates, {len(block_links)} certs {block_live * 1000:8.2f} ms   "
        f"rebuild per block {block_rebuilt * 1000:.1f} ms: {block_rebuilt / block_live:.0f}x faster"
    )
    # A block's delta: 5 certifications written, 2 expired, a joiner becoming a member.
    written = CertRecord(1, 2, 3, 4)
    changes: dict[tuple[str, object], tuple[object, object]] = {
        ("cert", pair): (None, written) for pair in block_links[:5]
    }
    changes.update({("cert", pair): (written, None) for pair in rng.sample(links, 2)})
    changes["identity", joiners[0]] = (
        None,
        IdentityRecord("new", Hash(bytes(32)), 1, True, True, False, None),
    )
    delta = Delta(1, changes, graph.digest, Hash(bytes([1]) * 32))

    def apply_and_revert() -> None:
        graph.apply(delta)
        graph.revert(delta)

    moves = 1000
    step = best_of(3, lambda: [apply_and_revert() for _ in range(moves)]) / (2 * moves)
    print(
        f"   apply (or revert) of a delta    {step * 1e6:8.1f} µs   ({len(changes)} rows)   "
        f"build {build * 1000:.0f} ms: {build / step:.0f}x faster"
    )


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
    measure_live_graph("real Ğ1 WoT", links, set(data["members"]), 0.002)
    measure_live_graph("synthetic 10,000 × 25", synthetic_links, set(range(size)), 0.005)


if __name__ == "__main__":
    main()
