"""`RuleContext`: what every global rule needs to know about the block being checked."""

from dataclasses import dataclass, field

from protocol.crypto import PublicKey
from protocol.documents import Block, Identity
from protocol.params import CurrencyParameters
from protocol.state.records import BlockSummary
from protocol.state.view import StateView


@dataclass(frozen=True)
class RuleContext:
    """The block's number and median time, the chain's parameters, and HEAD~1 (None for block 0).

    For a pending document the context describes the next block as far as it is known: number
    head + 1, median time that of the head.

    `newcomers` are the block's new identities; `returning` the keys of its joiners that have an
    identity already (excluded members coming back). Both become members in this block.
    """

    number: int
    median_time: int
    currency: str
    params: CurrencyParameters
    previous: BlockSummary | None
    newcomers: dict[PublicKey, Identity] = field(default_factory=dict)
    returning: frozenset[PublicKey] = frozenset()

    @property
    def genesis(self) -> bool:
        return self.previous is None

    def is_newcomer(self, key: PublicKey) -> bool:
        """Whether `key` becomes a member in this block: a new identity or a returning member."""
        return key in self.newcomers or key in self.returning

    @property
    def previous_median_time(self) -> int:
        """HEAD~1.medianTime, the time most global rules compare against (block 0: its own)."""
        return self.median_time if self.previous is None else self.previous.median_time

    @classmethod
    def for_block(cls, view: StateView, block: Block) -> "RuleContext":
        chain = view.chain()
        newcomers = {i.issuer: i for i in block.identities}
        params = block.parameters if chain is None else chain.parameters
        if params is None:  # block 0 without parameters: refused by the local rules already
            raise ValueError("no currency parameters")
        return cls(
            number=block.number,
            median_time=block.median_time,
            currency=block.currency if chain is None else chain.currency,
            params=params,
            previous=view.head(),
            newcomers=newcomers,
            returning=frozenset(m.issuer for m in block.joiners if m.issuer not in newcomers),
        )

    @classmethod
    def for_pending(cls, view: StateView) -> "RuleContext":
        """The context a pending document is checked in: the block after the head."""
        chain, head = view.chain(), view.head()
        if chain is None or head is None:
            raise ValueError("pending documents are checked against a chain that has block 0")
        return cls(
            number=head.number + 1,
            median_time=head.median_time,
            currency=chain.currency,
            params=chain.parameters,
            previous=head,
        )
