"""Output conditions: the small language that locks money (rules.md §8.3).

Grammar (a condition is kept as the exact text written in the output, because the minimum-balance
rule groups sources by that text):

    condition := term ( (" && " | " || ") term )*
    term      := "SIG(" base58-key ")" | "XHX(" 64 upper-case hex ")"
               | "CLTV(" integer ")" | "CSV(" integer ")" | "(" condition ")"

`&&` and `||` have the same precedence and associate to the left; parentheses group.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

from protocol.crypto import PublicKey
from protocol.errors import InvalidKey, ProtocolError
from protocol.keys import parse_pubkey, pubkey_to_base58

#: Longest condition text accepted in an output (rules.md §2, fixed constants).
MAX_CONDITION_LENGTH = 2000
#: Deepest parenthesis nesting accepted; deeper input is refused rather than recursed into.
MAX_NESTING = 32
_INTEGER = r"(0|[1-9][0-9]{0,18})"
_ATOM = re.compile(
    r"SIG\((?P<sig>[1-9A-HJ-NP-Za-km-z]{40,44})\)"
    r"|XHX\((?P<xhx>[0-9A-F]{64})\)"
    rf"|CLTV\((?P<cltv>{_INTEGER})\)"
    rf"|CSV\((?P<csv>{_INTEGER})\)"
)
_OPERATORS = {" && ": "&&", " || ": "||"}


class ConditionError(ProtocolError):
    """Text that is not a well-formed output condition."""


@dataclass(frozen=True, slots=True)
class Sig:
    """True when a successful SIG proof was made by `key`."""

    key: PublicKey

    def __str__(self) -> str:
        return f"SIG({pubkey_to_base58(self.key)})"


@dataclass(frozen=True, slots=True)
class Xhx:
    """True when an XHX proof's password hashes (SHA-256, upper-case hex) to `hash_hex`."""

    hash_hex: str

    def __str__(self) -> str:
        return f"XHX({self.hash_hex})"


@dataclass(frozen=True, slots=True)
class Cltv:
    """True once the median time reaches `time`."""

    time: int

    def __str__(self) -> str:
        return f"CLTV({self.time})"


@dataclass(frozen=True, slots=True)
class Csv:
    """True once `delay` seconds of median time have passed since the source was written."""

    delay: int

    def __str__(self) -> str:
        return f"CSV({self.delay})"


@dataclass(frozen=True, slots=True)
class Operation:
    """`left && right` or `left || right`."""

    operator: str  # "&&" or "||"
    left: "Condition"
    right: "Condition"

    def __str__(self) -> str:
        return f"({self.left} {self.operator} {self.right})"


Condition = Union[Sig, Xhx, Cltv, Csv, Operation]  # noqa: UP007 (a forward-referenced alias)


@lru_cache(maxsize=65536)
def parse_condition(text: str) -> Condition:
    """Parse an output condition, or raise `ConditionError` saying where it goes wrong.

    Cached: a condition is parsed at decoding and again by the rules, and accounts repeat.
    """
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionError(f"condition has {len(text)} characters, at most {MAX_CONDITION_LENGTH}")
    condition, position = _parse_sequence(text, 0, 0)
    if position != len(text):
        raise ConditionError(f"unexpected {text[position : position + 12]!r} at character {position}")
    return condition


def is_valid_condition(text: str) -> bool:
    try:
        parse_condition(text)
    except ConditionError:
        return False
    return True


def condition_keys(condition: Condition) -> frozenset[PublicKey]:
    """Every key named by a SIG in the condition (whose histories the output belongs to)."""
    match condition:
        case Sig(key):
            return frozenset({key})
        case Operation(_, left, right):
            return condition_keys(left) | condition_keys(right)
        case _:
            return frozenset()


def _parse_sequence(text: str, position: int, depth: int) -> tuple[Condition, int]:
    left, position = _parse_term(text, position, depth)
    while True:
        token = text[position : position + 4]
        if token not in _OPERATORS:
            return left, position
        right, position = _parse_term(text, position + 4, depth)
        left = Operation(_OPERATORS[token], left, right)


def _parse_term(text: str, position: int, depth: int) -> tuple[Condition, int]:
    if text.startswith("(", position):
        if depth >= MAX_NESTING:
            raise ConditionError(f"parentheses nested deeper than {MAX_NESTING}")
        inner, position = _parse_sequence(text, position + 1, depth + 1)
        if not text.startswith(")", position):
            raise ConditionError(f"expected ')' at character {position}")
        return inner, position + 1
    match = _ATOM.match(text, position)
    if match is None:
        raise ConditionError(f"expected SIG, XHX, CLTV, CSV or '(' at character {position}")
    if match["sig"] is not None:
        try:
            key = parse_pubkey(match["sig"])
        except InvalidKey as exc:
            raise ConditionError(f"SIG at character {position}: {exc}") from exc
        return Sig(key), match.end()
    if match["xhx"] is not None:
        return Xhx(match["xhx"]), match.end()
    if match["cltv"] is not None:
        return Cltv(int(match["cltv"])), match.end()
    return Csv(int(match["csv"])), match.end()


def sig_condition(key: PublicKey) -> str:
    """The plain condition `SIG(key)`: money that only `key` can spend."""
    return str(Sig(key))


@lru_cache(maxsize=65536)
def sig_owner(conditions: str) -> PublicKey | None:
    """The key of a plain `SIG(key)` condition written exactly as `sig_condition` writes it (the
    only form UDs are locked by), else None."""
    if not (conditions.startswith("SIG(") and conditions.endswith(")")):
        return None
    try:
        key = parse_pubkey(conditions[4:-1])
    except InvalidKey:
        return None
    return key if sig_condition(key) == conditions else None
