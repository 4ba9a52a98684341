"""The distance rule (rules.md §5.3): sentries, reach within stepMax, the 80 % verdict."""

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.wot import DistanceEvaluator, evaluate_distance, sentry_threshold
from tests.conftest import shared_dir


def reference(
    links: list[tuple[int, int]], candidate: int, d_sen: int, step_max: int, members: set[int]
) -> tuple[int, int]:
    """A plain breadth-first search, written from the rule's text."""
    pairs = {(a, b) for a, b in links if a != b}
    issued: dict[int, int] = {}
    received: dict[int, set[int]] = {}
    for a, b in pairs:
        issued[a] = issued.get(a, 0) + 1
        received.setdefault(b, set()).add(a)
    sentries = {n for n in members if issued.get(n, 0) >= d_sen and len(received.get(n, ())) >= d_sen} - {
        candidate
    }
    seen: set[int] = set()
    frontier = {candidate}
    for _ in range(step_max):
        frontier = {a for n in frontier for a in received.get(n, ())} - seen
        seen |= frontier
    return len(sentries), len(sentries & seen)


def test_sentry_threshold_vectors(vectors: dict[str, Any]) -> None:
    # ../shared/vectors/public.json still holds the float-pow value dSen(3125) = 6, which rules.md §5.3
    # (corrected) and §9 item 7 withdraw: the exact root is 5. Every other case there is checked.
    stale = {(3125, 5)}
    for case in vectors["sentry_threshold"]:
        if (case["members"], case["step_max"]) not in stale:
            assert sentry_threshold(case["members"], case["step_max"]) == case["d_sen"]
    expected = {3125: 5, 7776: 6, 16807: 7, 59049: 9, 100000: 10, 1024: 4, 243: 3}
    assert {n: sentry_threshold(n, 5) for n in expected} == expected


def test_no_sentry_always_passes() -> None:
    result = evaluate_distance([(1, 2)], 3, d_sen=5, step_max=5, x_percent=0.8)
    assert (result.sentries, result.outdistanced) == (0, False)


def ring(size: int) -> list[tuple[int, int]]:
    """Each node certifies the next two: every node issues and receives 2."""
    return [(i, (i + k) % size) for i in range(size) for k in (1, 2)]


def test_step_max_boundary() -> None:
    links = ring(20)
    near = evaluate_distance(links, 0, d_sen=2, step_max=2, x_percent=0.8)
    far = evaluate_distance(links, 0, d_sen=2, step_max=10, x_percent=0.8)
    assert near.sentries == far.sentries == 19
    assert near.reached_sentries == 4  # 1 or 2 steps back: nodes 18, 19 then 16, 17
    assert far.reached_sentries == 19 and not far.outdistanced
    assert near.outdistanced


def test_exact_threshold() -> None:
    # 5 sentries certify each other; the candidate is certified by 4 of them: 4 >= 0.8·5 passes.
    sentries = list(range(5))
    links = [(a, b) for a in sentries for b in sentries if a != b]
    passing = evaluate_distance(
        [*links, *((s, 9) for s in sentries[:4])], 9, d_sen=1, step_max=1, x_percent=0.8
    )
    assert (passing.sentries, passing.reached_sentries, passing.outdistanced) == (5, 4, False)
    failing = evaluate_distance(
        [*links, *((s, 9) for s in sentries[:3])], 9, d_sen=1, step_max=1, x_percent=0.8
    )
    assert failing.outdistanced


def test_non_members_relay_but_are_not_sentries() -> None:
    links = [(1, 2), (2, 1), (1, 3), (3, 1), (2, 3), (3, 2), (3, 4), (4, 9)]
    result = evaluate_distance(links, 9, d_sen=2, step_max=3, x_percent=0.8, members={1, 2, 3, 9})
    assert result.sentries == 3  # node 4 is no member
    assert result.reached_sentries == 3  # reached through 4


def test_candidate_is_not_its_own_sentry() -> None:
    links = ring(10)
    result = evaluate_distance(links, 0, d_sen=2, step_max=9, x_percent=0.8)
    assert result.sentries == 9


def test_duplicate_links_count_once() -> None:
    result = evaluate_distance([(1, 2), (1, 2), (2, 1)], 2, d_sen=2, step_max=2, x_percent=0.8)
    assert result.sentries == 0


@given(
    links=st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25)), max_size=120),
    candidate=st.integers(0, 26),
    d_sen=st.integers(1, 4),
    step_max=st.integers(1, 5),
    members=st.sets(st.integers(0, 26)),
)
@settings(max_examples=200, deadline=None)
def test_agrees_with_a_plain_search(
    links: list[tuple[int, int]], candidate: int, d_sen: int, step_max: int, members: set[int]
) -> None:
    result = evaluate_distance(
        links, candidate, d_sen=d_sen, step_max=step_max, x_percent=0.8, members=members
    )
    assert (result.sentries, result.reached_sentries) == reference(links, candidate, d_sen, step_max, members)


@pytest.fixture(scope="module")
def g1_wot() -> dict[str, Any]:
    path: Path = shared_dir() / "data" / "g1-wot-2023-09.json.gz"
    data: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return data


def test_real_g1_web_of_trust(g1_wot: dict[str, Any]) -> None:
    members = set(g1_wot["members"])
    links = [tuple(pair) for pair in g1_wot["certifications"]]
    d_sen = sentry_threshold(len(members), 5)
    evaluator = DistanceEvaluator(links, d_sen=d_sen, step_max=5, members=members)  # type: ignore[arg-type]
    sample = random.Random(1).sample(sorted(members), 40)
    passing = 0
    for node in sample:
        result = evaluator.evaluate(node, x_percent=0.8)
        assert (result.sentries, result.reached_sentries) == reference(links, node, d_sen, 5, members)  # type: ignore[arg-type]
        passing += not result.outdistanced
    assert passing >= 36  # nearly every member of the real WoT passes


@given(
    links=st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25)), max_size=120),
    d_sen=st.integers(1, 4),
    step_max=st.integers(1, 5),
    members=st.sets(st.integers(0, 26)),
)
@settings(max_examples=100, deadline=None)
def test_every_node_at_once_agrees_with_one_at_a_time(
    links: list[tuple[int, int]], d_sen: int, step_max: int, members: set[int]
) -> None:
    single = DistanceEvaluator(links, d_sen=d_sen, step_max=step_max, members=members)
    table = DistanceEvaluator(links, d_sen=d_sen, step_max=step_max, members=members)
    nodes = list(range(27))
    assert table.evaluate_all(nodes, x_percent=0.8) == {n: single.evaluate(n, x_percent=0.8) for n in nodes}
