"""Universal Dividend and transaction rules on a chain (rules.md §8), one test per rule code."""

from dataclasses import replace

from protocol.conditions import sig_condition
from protocol.crypto import sha256
from protocol.documents import BlockRef, Input, Output, TransactionSource, XhxProof
from tests.protocol.chain_builder import START, Chain
from tests.protocol.rules.helpers import rejected

DAY = 86400
FOUNDERS = ("alice", "bob", "carol", "dave")


def first_dividend(chain: Chain) -> int:
    """Advance to the first UD and return its block number."""
    chain.advance(DAY)
    number = next(b.number for b in chain.blocks if b.dividend is not None)
    return number


def test_BR_G91_every_member_receives_the_dividend(chain: Chain) -> None:
    number = first_dividend(chain)
    block = chain.blocks[number]
    assert block.dividend == chain.params.ud0
    assert all(chain.dividend_of(n, number) == chain.params.ud0 for n in FOUNDERS)
    head = chain.state.head()
    assert head is not None and head.mass == 4 * chain.params.ud0


def test_BR_G58_written_dividend_must_match(chain: Chain) -> None:
    rejected(chain, "BR_G58", dividend=1000)  # no UD is due yet
    while chain.block(time=START + DAY).dividend is None:
        chain.write(time=START + DAY)
    rejected(chain, "BR_G58", "expected 1000", time=START + DAY, dividend=999)


def test_BR_G59_written_unit_base_must_match(chain: Chain) -> None:
    rejected(chain, "BR_G59", unit_base=1)


def test_BR_G60_members_count_must_match(chain: Chain) -> None:
    rejected(chain, "BR_G60", members_count=5)


def test_payment_moves_money_and_keeps_the_rest(chain: Chain) -> None:
    first_dividend(chain)
    chain.write(transactions=[chain.pay("alice", {"bob": 300}, comment="coffee")])
    assert chain.balance("alice") == 700
    assert chain.balance("bob") == 1300


def test_BR_G87_source_must_exist_with_its_amount(chain: Chain) -> None:
    number = first_dividend(chain)
    tx = chain.pay("alice", {"bob": 300})
    chain.write(transactions=[tx])
    rejected(chain, "BR_G87", "not available", transactions=[tx])  # spent already
    from protocol.documents import DividendSource

    lying = chain.transaction(
        ["bob"],
        [Input(2000, 0, DividendSource(chain.key("bob"), number))],
        [Output(2000, 0, sig_condition(chain.key("bob")))],
    )
    rejected(chain, "BR_G87", "claims", transactions=[lying])


def test_BR_G88_unlock_needs_the_owner(chain: Chain) -> None:
    number = first_dividend(chain)
    from protocol.documents import DividendSource

    theft = chain.transaction(
        ["bob"],
        [Input(1000, 0, DividendSource(chain.key("alice"), number))],
        [Output(1000, 0, sig_condition(chain.key("bob")))],
    )
    rejected(chain, "BR_G88", transactions=[theft])


def test_XHX_and_CSV_conditions(chain: Chain) -> None:
    first_dividend(chain)
    password = "open sesame".replace(" ", "-")
    digest = sha256(password.encode()).hex().upper()
    locked = f"XHX({digest}) && CSV(3600)"
    tx = chain.pay("alice", {"bob": 100})
    tx = chain.transaction(["alice"], tx.inputs, [Output(1000, 0, locked)])
    chain.write(transactions=[tx])
    source = TransactionSource(tx.hash, 0)
    claim = chain.transaction(
        ["bob"], [Input(1000, 0, source)], [Output(1000, 0, sig_condition(chain.key("bob")))]
    )
    claim = replace(claim, unlocks=((XhxProof(password),),)).signed_by(chain.keys["bob"])
    rejected(chain, "BR_G88", transactions=[claim])  # CSV(3600) not yet
    chain.advance(3600)
    chain.write(transactions=[claim])
    assert chain.balance("bob") >= 1000


def test_BR_G89_locktime(chain: Chain) -> None:
    first_dividend(chain)
    tx = replace(chain.pay("alice", {"bob": 300}), locktime=10 * DAY).signed_by(chain.keys["alice"])
    rejected(chain, "BR_G89", "locked until", transactions=[tx])


def test_BR_G90_output_base_at_most_unit_base(chain: Chain) -> None:
    first_dividend(chain)
    tx = chain.pay("alice", {"bob": 300})
    high = chain.transaction(["alice"], tx.inputs, [Output(100, 1, sig_condition(chain.key("bob")))])
    rejected(chain, "BR_G90", "base 1", transactions=[high])


def test_BR_G103_transaction_window(chain: Chain) -> None:
    first_dividend(chain)
    tx = chain.pay("alice", {"bob": 300})
    chain.advance(chain.params.tx_window + 100)
    rejected(chain, "BR_G103", transactions=[tx])
    stranger = replace(tx, block=BlockRef(3, sha256(b"fork"))).signed_by(chain.keys["alice"])
    rejected(chain, "BR_G103", "not on this chain", transactions=[stranger])


def test_chaining_inside_a_block(chain: Chain) -> None:
    first_dividend(chain)
    first = chain.pay("alice", {"bob": 1000})
    second = chain.transaction(
        ["bob"],
        [Input(1000, 0, TransactionSource(first.hash, 0))],
        [Output(1000, 0, sig_condition(chain.key("carol")))],
    )
    chain.write(transactions=[first, second])
    assert chain.balance("carol") == 2000


def test_checkMaxTransactionChainingDepth(chain: Chain) -> None:
    first_dividend(chain)
    names = ["alice", "bob", "carol", "dave"] * 2
    txs = [chain.pay("alice", {"bob": 1000})]
    for index in range(6):
        previous = txs[-1]
        txs.append(
            chain.transaction(
                [names[index + 1]],
                [Input(1000, 0, TransactionSource(previous.hash, 0))],
                [Output(1000, 0, sig_condition(chain.key(names[index + 2])))],
            )
        )
    rejected(chain, "checkMaxTransactionChainingDepth", "depth 6", transactions=txs)
    chain.write(transactions=txs[:6])


def test_BR_G106_low_account_is_destroyed(chain: Chain) -> None:
    first_dividend(chain)
    chain.write(transactions=[chain.pay("alice", {"bob": 950})])  # alice keeps 0.50
    assert chain.balance("alice") == 0
    head = chain.state.head()
    assert head is not None and head.mass == 4000  # destroyed money stays in the mass


def test_checkTxAmounts(chain: Chain) -> None:
    first_dividend(chain)
    tx = chain.pay("alice", {"bob": 300})
    inflated = chain.transaction(["alice"], tx.inputs, [Output(5000, 0, sig_condition(chain.key("bob")))])
    rejected(chain, "checkTxAmounts", transactions=[inflated])


def test_checkTxSignature(chain: Chain) -> None:
    first_dividend(chain)
    tx = chain.pay("alice", {"bob": 300})
    forged = replace(tx, signatures=(chain.keys["bob"].sign(tx.signing_message()),))
    rejected(chain, "checkTxSignature", transactions=[forged])


def test_checkTxSources_same_source_twice_in_block(chain: Chain) -> None:
    first_dividend(chain)
    one = chain.pay("alice", {"bob": 300})
    two = chain.pay("alice", {"carol": 300})
    rejected(chain, "checkTxSources", "already spent", transactions=[one, two])
