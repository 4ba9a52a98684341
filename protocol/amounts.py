"""Transaction amounts: conservation across unit bases (rules.md §8.2, local rule checkTxAmounts)."""

from collections import defaultdict
from collections.abc import Sequence

from protocol.errors import ProtocolError


class ConservationError(ProtocolError):
    """Inputs and outputs that do not balance, or value moving from a higher base to a lower one."""


def amount_in_cents(amount: int, base: int) -> int:
    """`amount` written at unit base `base`, in cents."""
    return int(amount * 10**base)


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
