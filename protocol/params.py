"""Currency parameters: the Ğ1 values (rules.md §2) and a fast `dev` profile for local networks.

Block 0 carries the parameters, so every peer and auditor reads them from the chain itself.
Encoded form: an array of the fields below, in declaration order.
"""

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from protocol.errors import SchemaError
from protocol.fields import read_array, read_float, read_int

# Fixed protocol constants (rules.md §2, "Fixed protocol constants").
REVOCATION_FACTOR = 2
NB_DIGITS_UD = 4
POW_DIFFICULTY_RANGE_RATIO = 1.189
ACCOUNT_MINIMUM_CURRENT_BASED_AMOUNT = 100
BLOCK_MAX_TX_CHAINING_DEPTH = 5
SWITCH_ON_BRANCH_AHEAD_BY_X_BLOCKS = 3


@dataclass(frozen=True, slots=True)
class CurrencyParameters:
    """The 20 parameters of Ğ1's block 0, then four that Duniter derives or fixes elsewhere, then June's."""

    c: float
    dt: int
    ud0: int
    sig_period: int
    sig_stock: int
    sig_window: int
    sig_validity: int
    sig_qty: int
    idty_window: int
    ms_window: int
    x_percent: float
    ms_validity: int
    step_max: int
    median_time_blocks: int
    avg_gen_time: int
    dt_diff_eval: int
    percent_rot: float
    ud_time0: int
    ud_reeval_time0: int
    dt_reeval: int
    # Not in Ğ1's Parameters line: msPeriod = sigReplay = msWindow there; txWindow and the fork window fixed.
    ms_period: int
    sig_replay: int
    tx_window: int
    fork_window_size: int
    # June: how far a block's time may run ahead of its median time. Ğ1 derives it (8568 s); a dev
    # currency sets it large so that a development clock can jump months ahead in a few blocks.
    max_acceleration: int

    @property
    def max_gen_time(self) -> int:
        return math.ceil(self.avg_gen_time * POW_DIFFICULTY_RANGE_RATIO)

    @property
    def min_gen_time(self) -> int:
        return math.floor(self.avg_gen_time / POW_DIFFICULTY_RANGE_RATIO)

    @property
    def derived_max_acceleration(self) -> int:
        """ceil(maxGenTime · medianTimeBlocks), Ğ1's value of `max_acceleration` (rules.md §6.2)."""
        return math.ceil(self.max_gen_time * self.median_time_blocks)

    def to_item(self) -> list[Any]:
        return [getattr(self, field.name) for field in fields(self)]

    @classmethod
    def from_item(cls, value: Any, what: str = "parameters") -> "CurrencyParameters":
        items = read_array(value, len(fields(cls)), what)
        decoded: dict[str, Any] = {}
        for field, item in zip(fields(cls), items, strict=True):
            name = f"{what}.{field.name}"
            if field.type in (float, "float"):
                decoded[field.name] = read_float(item, name, minimum=0.0, maximum=1.0)
            else:
                decoded[field.name] = read_int(item, name, minimum=0, maximum=2**40)
        params = cls(**decoded)
        params.check()
        return params

    def check(self) -> None:
        """Raise `SchemaError` for values no currency can run with (zero periods, empty quorums)."""
        for name in (
            "dt",
            "dt_reeval",
            "avg_gen_time",
            "dt_diff_eval",
            "median_time_blocks",
            "step_max",
            "max_acceleration",
        ):
            if getattr(self, name) < 1:
                raise SchemaError(f"parameters.{name}: must be at least 1, got {getattr(self, name)}")
        for name in ("sig_qty", "sig_stock", "ud0", "fork_window_size"):
            if getattr(self, name) < 1:
                raise SchemaError(f"parameters.{name}: must be at least 1, got {getattr(self, name)}")
        if not 0.0 < self.c <= 1.0 or not 0.0 < self.x_percent <= 1.0:
            raise SchemaError("parameters.c and parameters.x_percent must be in (0, 1]")
        if self.ud_reeval_time0 < self.ud_time0:
            raise SchemaError("parameters.ud_reeval_time0 is before ud_time0")


#: Ğ1 as it ran (rules.md §2), with msPeriod = sigReplay = msWindow, txWindow 7 days, fork window 100.
G1 = CurrencyParameters(
    c=0.0488,
    dt=86400,
    ud0=1000,
    sig_period=432000,
    sig_stock=100,
    sig_window=5259600,
    sig_validity=63115200,
    sig_qty=5,
    idty_window=5259600,
    ms_window=5259600,
    x_percent=0.8,
    ms_validity=31557600,
    step_max=5,
    median_time_blocks=24,
    avg_gen_time=300,
    dt_diff_eval=12,
    percent_rot=0.67,
    ud_time0=1488970800,
    ud_reeval_time0=1490094000,
    dt_reeval=15778800,
    ms_period=5259600,
    sig_replay=5259600,
    tx_window=604800,
    fork_window_size=100,
    max_acceleration=8568,
)


def dev_parameters(start_time: int) -> CurrencyParameters:
    """The `dev` profile: Ğ1's rules with periods shrunk so a local network shows a year in minutes.

    One UD a day and a reevaluation every 10 days, memberships of 60 days and certifications of
    120 days, 3 certifications to join, 10-second blocks over a short median window, and a block
    time allowed 30 days ahead of the median time, so a development clock can jump months ahead
    in a few blocks. The first UD comes one `dt` after `start_time` (the genesis time).
    """
    day = 86400
    return replace(
        G1,
        dt=day,
        sig_period=60,
        sig_window=7 * day,
        sig_validity=120 * day,
        sig_qty=3,
        idty_window=7 * day,
        ms_window=7 * day,
        ms_validity=60 * day,
        median_time_blocks=5,
        avg_gen_time=10,
        dt_diff_eval=10,
        ud_time0=start_time + day,
        ud_reeval_time0=start_time + 10 * day,
        dt_reeval=10 * day,
        ms_period=day,
        sig_replay=day,
        tx_window=7 * day,
        max_acceleration=30 * day,
    )
