"""Output condition grammar: what parses, how it groups, what is refused."""

from typing import Any

import pytest

from protocol.conditions import (
    MAX_CONDITION_LENGTH,
    Cltv,
    ConditionError,
    Csv,
    Operation,
    Sig,
    Xhx,
    condition_keys,
    parse_condition,
    sig_condition,
)
from protocol.keys import Keypair, pubkey_to_base58


def test_atoms(keys: list[Keypair]) -> None:
    key = keys[0].public_key
    assert parse_condition(sig_condition(key)) == Sig(key)
    assert parse_condition("XHX(" + "A" * 64 + ")") == Xhx("A" * 64)
    assert parse_condition("CLTV(1500000000)") == Cltv(1500000000)
    assert parse_condition("CSV(0)") == Csv(0)


def test_equal_precedence_left_associative(keys: list[Keypair]) -> None:
    a, b = (pubkey_to_base58(k.public_key) for k in keys[:2])
    parsed = parse_condition(f"SIG({a}) || SIG({b}) && CSV(10)")
    assert parsed == Operation(
        "&&", Operation("||", Sig(keys[0].public_key), Sig(keys[1].public_key)), Csv(10)
    )
    grouped = parse_condition(f"SIG({a}) || (SIG({b}) && CSV(10))")
    assert grouped == Operation(
        "||", Sig(keys[0].public_key), Operation("&&", Sig(keys[1].public_key), Csv(10))
    )


def test_vector_conditions_parse(vectors: dict[str, Any], keys: list[Keypair]) -> None:
    for case in vectors["conditions"]:
        text = case["condition"]
        for name, key in (("k1", keys[0]), ("k2", keys[1])):
            text = text.replace(name, pubkey_to_base58(key.public_key))
        parsed = parse_condition(text)
        assert condition_keys(parsed) == {keys[0].public_key, keys[1].public_key}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SIG()",
        "SIG(0OIl)",
        "sig(J4c8CARmP9vAFNGtHRuzx14zvxojyRWHW2darguVqjtX)",
        "XHX(abc)",
        "XHX(" + "a" * 64 + ")",
        "CLTV(01)",
        "CSV(-1)",
        "CSV(10) &&CSV(1)",
        "CSV(10)  && CSV(1)",
        "CSV(10) AND CSV(1)",
        "(CSV(10)",
        "CSV(10))",
        "CSV(10) &&",
        "SIG(J4c8CARmP9vAFNGtHRuzx14zvxojyRWHW2darguVqjtX:KAv)",
    ],
)
def test_malformed_conditions_are_refused(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_length_and_nesting_caps() -> None:
    with pytest.raises(ConditionError, match="characters"):
        parse_condition("CSV(1)" + " && CSV(1)" * (MAX_CONDITION_LENGTH // 10))
    with pytest.raises(ConditionError, match="nested"):
        parse_condition("(" * 40 + "CSV(1)" + ")" * 40)
    assert parse_condition("(" * 30 + "CSV(1)" + ")" * 30) == Csv(1)
