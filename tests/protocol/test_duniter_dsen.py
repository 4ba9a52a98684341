"""dSen at exact fifth powers (issue 14 item 2; rules.md §5.3 and §9 item 7).

Duniter computes `Math.ceil(Math.pow(N, 1 / stepMax))` in JavaScript (`indexer.ts`, the distance
check), and V8 gives exactly 5 for 3125^0.2: the exact integer root, which is also the Ğ1 licence's
table. CPython's float `pow` gave one too many at 3125 and 7776; June now takes the integer root.
"""

import pytest

from protocol.wot import evaluate_distance, sentry_threshold


@pytest.mark.parametrize(
    ("members", "d_sen"),
    [
        (3125, 5),  # 5**5: the exact root (float pow said 6)
        (3126, 6),  # one past: the ceiling moves up
        (7776, 6),  # 6**5 (float pow said 7)
        (7777, 7),
        (59, 3),
        (1024, 4),  # 4**5
        (1025, 5),
        (16807, 7),  # 7**5
        (59049, 9),  # 9**5
        (100000, 10),  # 10**5: licence row 59049 < N ≤ 100000 → 10
    ],
)
def test_indexer_dsen_exact_integer_root(members: int, d_sen: int) -> None:
    assert sentry_threshold(members, 5) == d_sen


def test_indexer_dsen_is_least_root_for_every_n() -> None:
    for step_max in (1, 2, 3, 5):
        for members in range(1, 8000):
            d = sentry_threshold(members, step_max)
            assert (d - 1) ** step_max < members <= d**step_max


def test_indexer_dsen_5_makes_a_sentry_that_dsen_6_would_not() -> None:
    """At N = 3125 a member with 5 issued and 5 received certifications is a sentry (dSen 5)."""
    hub, others = 0, list(range(1, 6))
    links = [(hub, o) for o in others] + [(o, hub) for o in others]
    links.append((hub, 99))  # the candidate, certified by the hub
    exact = evaluate_distance(links, 99, d_sen=sentry_threshold(3125, 5), step_max=5, x_percent=0.8)
    assert (exact.sentries, exact.reached_sentries, exact.outdistanced) == (1, 1, False)
    too_strict = evaluate_distance(links, 99, d_sen=6, step_max=5, x_percent=0.8)
    assert too_strict.sentries == 0
