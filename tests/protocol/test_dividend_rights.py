"""UDs held as rights (state v2): a UD block writes one record, whatever the number of members, and
the sources `D:key:n`, balances and BR_G106 behave exactly as one record per member would."""

from protocol.conditions import sig_condition
from protocol.documents import DividendSource, Input, Output
from protocol.state.tables import DIVIDEND
from tests.protocol.chain_builder import Chain

DAY = 86_400


def dividend_blocks(chain: Chain, count: int) -> list[int]:
    """Advance until `count` more UDs were created; their block numbers."""
    found: list[int] = []
    while len(found) < count:
        chain.advance(DAY)
        head = chain.state.head()
        assert head is not None
        found += [
            n for n in range(head.number - 5, head.number + 1) if chain.state.dividend(n) and n not in found
        ]
    return found


def test_a_dividend_block_writes_one_record_for_every_member() -> None:
    chain = Chain(founders=6)
    dividend_blocks(chain, 1)
    written = 0
    for delta in chain.deltas:
        tables = [table for table, _key in delta.changes]
        if DIVIDEND.name in tables:
            written += 1
            assert tables.count(DIVIDEND.name) == 1
            assert all(table != "source" for table in tables)  # no per-member write
    assert written >= 1


def test_spending_one_dividend_out_of_order_keeps_the_others_and_the_balance_right() -> None:
    chain = Chain(founders=4)
    numbers = dividend_blocks(chain, 3)
    alice = chain.key("alice")
    ud = chain.state.dividend(numbers[1])
    assert ud is not None
    middle = DividendSource(alice, numbers[1])
    tx = chain.transaction(
        ["alice"],
        [Input(ud.amount, ud.base, middle)],
        [Output(ud.amount, ud.base, sig_condition(chain.key("bob")))],
    )
    before = chain.state.balance(sig_condition(alice))
    chain.write(transactions=[tx])
    assert chain.state.source(middle) is None
    assert chain.state.source(DividendSource(alice, numbers[0])) is not None
    assert chain.state.source(DividendSource(alice, numbers[2])) is not None
    assert chain.state.balance(sig_condition(alice)) == before - ud.value
    assert chain.state.balance(sig_condition(alice)) == sum(
        record.value
        for s in chain.state.sources_of(sig_condition(alice))
        if (record := chain.state.source(s))
    )
    # Reverting gives the UD back.
    chain.revert()
    assert chain.state.source(middle) is not None


def test_an_account_below_one_unit_loses_its_dividends_but_keeps_receiving_the_next() -> None:
    chain = Chain(founders=4)
    numbers = dividend_blocks(chain, 2)
    alice = chain.key("alice")
    total = chain.state.balance(sig_condition(alice))
    # alice pays everything but 50 cents: the 1-unit rule destroys the rest of her account.
    tx = chain.pay("alice", {"bob": total - 50})
    chain.write(transactions=[tx])
    assert chain.state.balance(sig_condition(alice)) == 0
    assert all(chain.state.source(DividendSource(alice, n)) is None for n in numbers)
    later = dividend_blocks(chain, 1)
    ud = chain.state.dividend(later[0])
    assert ud is not None and chain.state.balance(sig_condition(alice)) == ud.value
