"""The Universal Dividend formula and schedule (rules.md §8.1)."""

from typing import Any

from protocol.money import MoneyState, compute_money_step, genesis_money, reevaluated_dividend
from protocol.params import G1

DAY = 86400


def test_worked_example_vector(vectors: dict[str, Any]) -> None:
    case = vectors["dividend"]
    assert (
        reevaluated_dividend(
            previous_dividend=case["previous_dividend"],
            mass_reeval=case["mass_reeval"],
            unit_base=case["unit_base"],
            members_count=case["members_count"],
            c=case["c"],
            dt=case["dt"],
            dt_reeval=case["dt_reeval"],
        )
        == case["expected_dividend"]
    )


def test_first_reevaluation_keeps_ud0() -> None:
    state = genesis_money(G1)
    step = compute_money_step(state, median_time=G1.ud_reeval_time0, members_count=59, params=G1)
    assert step.state.dividend == G1.ud0
    assert step.state.ud_reeval_time == G1.ud_reeval_time0 + G1.dt_reeval


def test_reevaluation_uses_the_mass_saved_at_the_previous_one() -> None:
    before = MoneyState(
        ud_time=10**10, ud_reeval_time=1000, dividend=1000, unit_base=0, mass=5 * 10**9, mass_reeval=10**8
    )
    step = compute_money_step(before, median_time=1000, members_count=1000, params=G1)
    lagged = reevaluated_dividend(
        previous_dividend=1000,
        mass_reeval=10**8,
        unit_base=0,
        members_count=1000,
        c=G1.c,
        dt=G1.dt,
        dt_reeval=G1.dt_reeval,
    )
    assert step.state.dividend == lagged == 1002
    assert step.state.mass_reeval == 5 * 10**9  # saved now, used at the next reevaluation


def test_no_dividend_before_its_time_and_one_per_block_when_late() -> None:
    state = genesis_money(G1)
    early = compute_money_step(state, median_time=G1.ud_time0 - 1, members_count=10, params=G1)
    assert early.new_dividend is None and early.state.mass == 0
    late = compute_money_step(state, median_time=G1.ud_time0 + 10 * DAY, members_count=10, params=G1)
    assert late.new_dividend == G1.ud0
    assert late.state.ud_time == G1.ud_time0 + DAY  # the next one is due at once, one block later
    assert late.state.mass == 10 * G1.ud0


def test_unit_base_rises_at_ten_thousand() -> None:
    before = MoneyState(
        ud_time=1000, ud_reeval_time=1000, dividend=9990, unit_base=0, mass=10**12, mass_reeval=10**12
    )
    step = compute_money_step(before, median_time=1000, members_count=1000, params=G1)
    raw = reevaluated_dividend(
        previous_dividend=9990,
        mass_reeval=10**12,
        unit_base=0,
        members_count=1000,
        c=G1.c,
        dt=G1.dt,
        dt_reeval=G1.dt_reeval,
    )
    assert raw >= 10**4
    assert step.state.unit_base == 1
    assert step.new_dividend == step.state.dividend == -(-raw // 10)
    assert step.state.mass == 10**12 + step.state.dividend * 10 * 1000


def test_no_member_no_reevaluation() -> None:
    assert (
        reevaluated_dividend(
            previous_dividend=1000, mass_reeval=10**9, unit_base=0, members_count=0, c=0.1, dt=1, dt_reeval=2
        )
        == 1000
    )


def test_ten_years_of_g1_grow_about_c_per_half_year() -> None:
    """With a steady population the UD settles near c·(M/N) per half-year."""
    params = G1
    state = genesis_money(params)
    members = 5000
    time = params.ud_time0
    for _ in range(int(10 * 365.25)):
        step = compute_money_step(state, median_time=time, members_count=members, params=params)
        state = step.state
        time += DAY
    daily = state.dividend * 10**state.unit_base * members / state.mass  # UD relative to M/N
    target = params.c / (params.dt_reeval / params.dt)  # c per half-year, spread over its days
    assert target / 2 < daily < target * 2
    assert state.dividend > params.ud0
