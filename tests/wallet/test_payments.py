"""Payments built by the wallet: enough money, exact amounts, change, the 100-line limit, chains."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.amounts import amount_in_cents
from protocol.conditions import sig_condition
from protocol.crypto import sha256
from protocol.documents import BlockRef, DividendSource, TransactionSource
from protocol.keys import Keypair
from protocol.rules.local import check_transaction_local
from wallet.payments import (
    NotEnoughMoney,
    Spendable,
    UnpayableAmount,
    build_payment,
    destructions,
    net_changes,
)

PAYER = Keypair(sha256(b"payer"))
PAYEE = Keypair(sha256(b"payee")).public_key
OTHER = Keypair(sha256(b"other")).public_key
STAMP = BlockRef(7, sha256(b"block 7"))


def uds(count: int, cents: int = 1000, base: int = 0) -> list[Spendable]:
    return [
        Spendable(DividendSource(PAYER.public_key, n), cents // 10**base, base) for n in range(1, count + 1)
    ]


def received(transactions: list, key: bytes) -> int:  # type: ignore[type-arg]
    condition = sig_condition(key)  # type: ignore[arg-type]
    return sum(
        amount_in_cents(o.amount, o.base)
        for tx in transactions
        for o in tx.outputs
        if o.condition == condition
    )


def test_pays_with_change_back_and_the_fewest_sources() -> None:
    sources = [*uds(3), Spendable(DividendSource(PAYER.public_key, 9), 5000, 0)]
    [tx] = build_payment(PAYER, "june-dev", STAMP, sources, [(PAYEE, 5500)], "merci")
    check_transaction_local(tx)
    tx.verify()
    assert len(tx.inputs) == 2  # the 50.00 source first, then one 10.00
    assert received([tx], PAYEE) == 5500
    assert received([tx], PAYER.public_key) == 500
    assert tx.comment == "merci"


def test_refuses_more_than_the_balance_in_plain_words() -> None:
    with pytest.raises(NotEnoughMoney, match=r"not enough money: balance 12\.00, asked 15\.00"):
        build_payment(
            PAYER,
            "june-dev",
            STAMP,
            [Spendable(DividendSource(PAYER.public_key, 1), 1200, 0)],
            [(PAYEE, 1500)],
        )


def test_refuses_an_amount_finer_than_the_unit_base() -> None:
    with pytest.raises(UnpayableAmount, match=r"pay 12\.30 or 12\.40"):
        build_payment(PAYER, "june-dev", STAMP, uds(5, 1000, base=1), [(PAYEE, 1234)])


def test_mixed_bases_keep_the_fine_change_at_lower_bases() -> None:
    sources = [Spendable(DividendSource(PAYER.public_key, 9), 1005, 0), *uds(2, 2000, base=2)]
    [tx] = build_payment(PAYER, "june-dev", STAMP, sources, [(PAYEE, 4500)])
    check_transaction_local(tx)  # conservation across bases holds
    assert received([tx], PAYER.public_key) == 505
    assert {(o.amount, o.base) for o in tx.outputs} == {(45, 2), (5, 2), (5, 0)}


def test_many_small_sources_are_gathered_by_chained_transactions() -> None:
    sources = uds(120, 100)
    transactions = build_payment(PAYER, "june-dev", STAMP, sources, [(PAYEE, 11_000), (OTHER, 500)])
    assert len(transactions) > 1
    for tx in transactions:
        check_transaction_local(tx)
        tx.verify()
    final = transactions[-1]
    earlier = {tx.hash for tx in transactions[:-1]}
    assert any(isinstance(i.source, TransactionSource) and i.source.tx_hash in earlier for i in final.inputs)
    assert received([final], PAYEE) == 11_000 and received([final], OTHER) == 500
    spent = [i.source for tx in transactions for i in tx.inputs]
    assert len(spent) == len(set(spent))  # no source spent twice


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=50_000), min_size=1, max_size=150),
    share=st.floats(min_value=0.01, max_value=1.0),
)
def test_any_affordable_payment_is_valid_and_conserves_money(amounts: list[int], share: float) -> None:
    sources = [Spendable(DividendSource(PAYER.public_key, n), a, 0) for n, a in enumerate(amounts, start=1)]
    asked = max(1, int(sum(amounts) * share))
    transactions = build_payment(PAYER, "june-dev", STAMP, sources, [(PAYEE, asked)])
    for tx in transactions:
        check_transaction_local(tx)
    assert received(transactions[-1:], PAYEE) == asked


def test_sending_everything_leaves_nothing_at_any_base() -> None:
    """`--all`: every source is spent, the recipient takes all of it, even what lies at lower bases."""
    sources = [*uds(60, 1000, 1), Spendable(DividendSource(PAYER.public_key, 99), 37, 0)]
    transactions = build_payment(PAYER, "june-dev", STAMP, sources, [], everything_to=PAYEE)
    assert received(transactions, PAYEE) - received(transactions[:-1], PAYEE) == 60 * 1000 + 37
    assert received(transactions[-1:], PAYER.public_key) == 0
    for tx in transactions:
        check_transaction_local(tx)
    assert net_changes(transactions, PAYER.public_key) == {PAYER.public_key: -60037, PAYEE: 60037}


def test_the_change_can_go_to_another_key() -> None:
    [tx] = build_payment(PAYER, "june-dev", STAMP, uds(2), [(PAYEE, 1500)], change_to=OTHER)
    assert received([tx], OTHER) == 500 and received([tx], PAYER.public_key) == 0


@pytest.mark.parametrize(
    ("sender", "payee_before", "paid", "expected"),
    [
        (1000, 0, 928, {"sender": 72}),  # 0.72 left: destroyed
        (1000, 0, 50, {"payee": 50}),  # a new account with 0.50: destroyed
        (1000, 60, 50, {}),  # 0.50 more on 0.60: 1.10, kept
        (1000, 0, 1000, {}),  # everything: nothing left to destroy
        (1000, 0, 900, {}),  # exactly 1.00 stays
    ],
)
def test_destructions_are_seen_before_anything_is_sent(
    sender: int, payee_before: int, paid: int, expected: dict[str, int]
) -> None:
    transactions = build_payment(
        PAYER, "june-dev", STAMP, [Spendable(DividendSource(PAYER.public_key, 1), sender, 0)], [(PAYEE, paid)]
    )
    balances = {PAYER.public_key: sender, PAYEE: payee_before}
    found = destructions(balances, net_changes(transactions, PAYER.public_key), unit_base=0)
    names = {PAYER.public_key: "sender", PAYEE: "payee"}
    assert {names[d.key]: d.after for d in found} == expected


def test_the_minimum_follows_the_unit_base() -> None:
    """At unit base 1 the minimum is 10.00: an account left with 5.00 is destroyed."""
    assert [d.after for d in destructions({PAYEE: 0}, {PAYEE: 500}, unit_base=1)] == [500]
    assert destructions({PAYEE: 0}, {PAYEE: 1000}, unit_base=1) == []
