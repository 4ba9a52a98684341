"""Transaction conservation across unit bases (rules.md §8.2)."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.amounts import ConservationError, amount_in_cents, check_conservation


def test_same_base_balanced() -> None:
    check_conservation([(1000, 0), (250, 0)], [(1200, 0), (50, 0)])


def test_unequal_sums_fail() -> None:
    with pytest.raises(ConservationError, match="outputs hold 1300 cents, expected the inputs' 1250"):
        check_conservation([(1000, 0), (250, 0)], [(1300, 0)])


def test_value_moves_up_from_lower_bases() -> None:
    check_conservation([(500, 0), (500, 0)], [(100, 1)])
    check_conservation([(1050, 0)], [(100, 1), (50, 0)])


def test_value_never_moves_down() -> None:
    with pytest.raises(ConservationError, match="base 0"):
        check_conservation([(100, 1)], [(1000, 0)])


def test_amount_in_cents() -> None:
    assert amount_in_cents(123, 2) == 12300


@given(total=st.integers(1, 10**9), cuts=st.lists(st.integers(0, 10**9), max_size=5))
def test_any_split_at_the_same_base_passes(total: int, cuts: list[int]) -> None:
    points = sorted({c % total for c in cuts} | {0, total})
    outputs = [(b - a, 0) for a, b in itertools.pairwise(points) if b > a]
    check_conservation([(total, 0)], outputs)
