"""Block size without Excluded rows (issue 14 item 5; rules.md §6.6, BR_G50).

Duniter's `BlockDTO.len` counts identities, joiners, actives, leavers, revoked, certifications and
each transaction's `getLen()` lines; it does not count `excluded`. The size feeds BR_G50 twice: the
block's own size, and the average size of the last issuersCount blocks that sets the limit.
"""

from dataclasses import replace
from typing import cast

from protocol.rules.production import compute_block_size, compute_max_block_size
from protocol.state import BlockSummary, StateView
from tests.protocol.chain_builder import Chain

DAY = 86400


class _Sizes:
    """A state that knows only past block summaries of the given sizes (blocks 0 … len − 1)."""

    def __init__(self, template: BlockSummary, sizes: list[int]) -> None:
        self.summaries = [replace(template, number=n, size=s) for n, s in enumerate(sizes)]

    def block_summary(self, number: int) -> BlockSummary | None:
        return self.summaries[number] if 0 <= number < len(self.summaries) else None


def sizes_view(template: BlockSummary, sizes: list[int]) -> StateView:
    """The sizes' state, as the only StateView method the limit reads."""
    return cast(StateView, _Sizes(template, sizes))


def test_blockdto_len_does_not_count_excluded_rows(chain: Chain) -> None:
    block = chain.block()
    kicked = tuple(chain.key(name) for name in ("bob", "carol", "dave"))
    assert compute_block_size(replace(block, excluded=kicked)) == compute_block_size(block)
    renewal = chain.membership("bob")
    assert compute_block_size(replace(block, actives=(renewal,))) == compute_block_size(block) + 1


def test_blockdto_len_exclusion_block_has_size_zero(chain: Chain) -> None:
    """A real exclusion: eve joins, lets her membership expire and is excluded in an otherwise empty
    block, whose recorded size (the BR_G50 average reads it) is 0, not 1."""
    chain.advance(chain.params.sig_period + 1)
    chain.write(
        identities=[chain.identity("eve")],
        joiners=[chain.membership("eve")],
        certifications=[chain.cert(c, "eve") for c in ("alice", "bob", "carol")],
    )
    chain.advance(chain.params.ms_validity - 10 * DAY)
    chain.write(actives=[chain.membership(n) for n in ("alice", "bob", "carol", "dave")])
    for _ in range(200):
        if chain.key("eve") in set(chain.state.members_to_kick()):
            break
        head = chain.state.head()
        assert head is not None
        chain.write(time=head.median_time + DAY)
    chain.write()
    block = chain.blocks[-1]
    assert block.excluded == (chain.key("eve"),)
    assert compute_block_size(block) == 0
    summary = chain.state.block_summary(block.number)
    assert summary is not None and summary.size == 0


def test_br_g50_limit_from_the_average_size(chain: Chain) -> None:
    """rules.md §6.6 vectors: size < max(500, ceil(1.1·avg)); avg 454 → limit 500, 455 → 501."""
    template = chain.state.block_summary(0)
    assert template is not None
    assert compute_max_block_size(sizes_view(template, [0, 454, 454]), 3, 2) == 500  # a 500-row block fails
    assert compute_max_block_size(sizes_view(template, [0, 455, 455]), 3, 2) == 501  # a 500-row block passes
