"""The Universal Dividend: when it is created and how much (rules.md §8.1, BR_G11–G15)."""

import math
from dataclasses import dataclass

from protocol.params import NB_DIGITS_UD, CurrencyParameters


@dataclass(frozen=True, slots=True)
class MoneyState:
    """The money fields of a chain head."""

    ud_time: int
    ud_reeval_time: int
    dividend: int
    unit_base: int
    mass: int
    mass_reeval: int


@dataclass(frozen=True, slots=True)
class MoneyStep:
    """The money after a block, and the UD the block creates (None: no UD in this block)."""

    state: MoneyState
    new_dividend: int | None


def genesis_money(params: CurrencyParameters) -> MoneyState:
    """Block 0 starts the schedule and creates no UD (rules.md §8.1)."""
    return MoneyState(params.ud_time0, params.ud_reeval_time0, params.ud0, 0, 0, 0)


def reevaluated_dividend(
    *,
    previous_dividend: int,
    mass_reeval: int,
    unit_base: int,
    members_count: int,
    c: float,
    dt: int,
    dt_reeval: int,
) -> int:
    """ceil(UD + c² · ceil(M/10^base) / N / (dtReeval/dt)) in IEEE doubles, in this order (BR_G13)."""
    if members_count == 0:
        return previous_dividend  # no member, nobody to share the mass with
    scale: int = 10**unit_base
    mass_in_units = math.ceil(mass_reeval / scale)
    growth: float = c * c * mass_in_units / members_count / (dt_reeval / dt)
    return math.ceil(previous_dividend + growth)


def compute_money_step(
    previous: MoneyState, *, median_time: int, members_count: int, params: CurrencyParameters
) -> MoneyStep:
    """The money fields after a block > 0 of median time `median_time` (BR_G11–G15).

    `members_count` is the count after the block.
    """
    ud_due = previous.ud_time <= median_time
    reeval_due = previous.ud_reeval_time <= median_time
    ud_time = previous.ud_time + params.dt if ud_due else previous.ud_time
    ud_reeval_time = previous.ud_reeval_time + params.dt_reeval if reeval_due else previous.ud_reeval_time
    dividend = previous.dividend
    if reeval_due:
        dividend = reevaluated_dividend(
            previous_dividend=previous.dividend,
            mass_reeval=previous.mass_reeval,
            unit_base=previous.unit_base,
            members_count=members_count,
            c=params.c,
            dt=params.dt,
            dt_reeval=params.dt_reeval,
        )
    unit_base = previous.unit_base
    if dividend >= 10**NB_DIGITS_UD:
        dividend = math.ceil(dividend / 10)
        unit_base += 1
    # Duniter also sets the new dividend when the base changes in a block without UD; June creates
    # UDs only when one is due, so that the mass always equals the sum of the UDs created.
    new_dividend = dividend if ud_due else None
    mass = previous.mass + dividend * 10**unit_base * members_count if ud_due else previous.mass
    mass_reeval = previous.mass if reeval_due else previous.mass_reeval
    state = MoneyState(ud_time, ud_reeval_time, dividend, unit_base, mass, mass_reeval)
    return MoneyStep(state, new_dividend)
