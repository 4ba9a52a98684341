"""Amounts: how cents are written, conservation across unit bases (rules.md §8.2, local rule
checkTxAmounts), and the smallest balance an account keeps (BR_G106)."""

from collections import defaultdict
from collections.abc import Sequence

from protocol.errors import ProtocolError
from protocol.params import ACCOUNT_MINIMUM_CURRENT_BASED_AMOUNT


class ConservationError(ProtocolError):
    """Inputs and outputs that do not balance, or value moving from a higher base to a lower one."""


def amount_in_cents(amount: int, base: int) -> int:
    """`amount` written at unit base `base`, in cents."""
    return int(amount * 10**base)


def format_cents(cents: int, *, grouped: bool = False) -> str:
    """`1234` → `"12.34"`, `-5` → `"-0.05"`: the one way June writes an amount (integers only);
    `grouped` separates thousands (`"1,234,567.89"`) for large totals in reports."""
    sign = "-" if cents < 0 else ""
    units = f"{abs(cents) // 100:,}" if grouped else f"{abs(cents) // 100}"
    return f"{sign}{units}.{abs(cents) % 100:02d}"


def account_minimum(unit_base: int) -> int:
    """The smallest balance, in cents, an account a transaction touched keeps after a block: below
    it, every source of the account is destroyed (BR_G106; 1.00 at unit base 0)."""
    return int(ACCOUNT_MINIMUM_CURRENT_BASED_AMOUNT * 10**unit_base)


def destroyed_by_minimum(balance_after: int, unit_base: int) -> int:
    """What BR_G106 destroys of an account left with `balance_after` cents by a transaction: all
    of it when it is above zero but below the minimum, nothing otherwise."""
    return balance_after if 0 < balance_after < account_minimum(unit_base) else 0


def check_conservation(inputs: Sequence[tuple[int, int]], outputs: Sequence[tuple[int, int]]) -> None:
    """Raise `ConservationError` unless inputs and outputs hold the same value, moving only upwards.

    Walking the bases upward, the outputs at a base may exceed the inputs at that base only by what
    the lower bases left over (rules.md §8.2).
    """
    total_in = sum(amount_in_cents(a, b) for a, b in inputs)
    total_out = sum(amount_in_cents(a, b) for a, b in outputs)
    # Verify the sums are equal.
    if total_in != total_out:
        raise ConservationError(f"outputs hold {total_out} cents, expected the inputs' {total_in}")
    per_base: defaultdict[int, int] = defaultdict(int)
    for amount, base in outputs:
        per_base[base] += amount_in_cents(amount, base)
    for amount, base in inputs:
        per_base[base] -= amount_in_cents(amount, base)
    # Verify, base by base upwards, that a surplus is covered by what lower bases freed.
    freed = 0
    for base in sorted(per_base):
        delta = per_base[base]
        if delta > freed:
            raise ConservationError(
                f"outputs at base {base} exceed its inputs by {delta} cents, lower bases free only {freed}"
            )
        freed -= delta
