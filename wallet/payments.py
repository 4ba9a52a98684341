"""Building payments: choose sources, write outputs and change, split into chained transactions.

Pure: the node gives the sources (UDs and outputs the key can spend alone), the wallet decides.
- Sources are taken largest first, so a payment uses as few inputs as possible.
- Outputs are written at the highest unit base among the inputs (value may only move to higher
  bases, rules.md §8.2); an amount that base cannot hold exactly is refused with the nearest ones.
  The change goes back to the sender; a remainder finer than that base is written at the lower
  bases, which the lower-base inputs always cover.
- A transaction has at most 100 compact lines. When the payment needs more inputs than fit, the
  sources are first gathered into consolidation transactions (all to the sender), and the payment
  spends their outputs: transactions that chain, to be written in order (one block may hold a
  chain up to depth 5; the node's mempool accepts a transaction spending a pending one).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.amounts import amount_in_cents, check_conservation
from protocol.conditions import sig_condition
from protocol.crypto import PublicKey
from protocol.documents import BlockRef, Input, Output, SigProof, Transaction, TransactionSource
from protocol.documents.transaction import MAX_COMMENT_LENGTH, MAX_LINES, Source
from protocol.keys import Keypair
from wallet.errors import WalletError

#: Chained consolidation levels a payment may use (a block holds chains of depth at most 5).
MAX_CHAIN_DEPTH = 4


class NotEnoughMoney(WalletError):
    """The sources cannot pay what is asked."""


class UnpayableAmount(WalletError):
    """An amount that the unit base of the money cannot write exactly, or a payment too large."""


@dataclass(frozen=True)
class Spendable:
    """A source the sender can spend alone, as the node lists it."""

    source: Source
    amount: int
    base: int

    @property
    def cents(self) -> int:
        return amount_in_cents(self.amount, self.base)


def format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def max_inputs(outputs: int, comment: str) -> int:
    """Inputs that fit in one transaction of one issuer with `outputs` outputs."""
    return (MAX_LINES - 2 - 2 - outputs - (1 if comment else 0)) // 2


def build_payment(
    keypair: Keypair,
    currency: str,
    blockstamp: BlockRef,
    sources: Sequence[Spendable],
    recipients: Sequence[tuple[PublicKey, int]],
    comment: str = "",
) -> list[Transaction]:
    """Signed transactions paying `recipients` (key, cents) from `sources`, to submit in order."""
    if not recipients:
        raise UnpayableAmount("no recipient")
    if any(cents <= 0 for _, cents in recipients):
        raise UnpayableAmount("every amount must be positive")
    if len(comment) > MAX_COMMENT_LENGTH:
        raise UnpayableAmount(f"the comment has {len(comment)} characters, at most {MAX_COMMENT_LENGTH}")
    asked = sum(cents for _, cents in recipients)
    balance = sum(s.cents for s in sources)
    if asked > balance:
        raise NotEnoughMoney(
            f"not enough money: balance {format_cents(balance)}, asked {format_cents(asked)}"
        )
    chosen = _choose(sources, asked)
    limit = max_inputs(len(recipients) + 2, comment)
    if limit < 1:
        raise UnpayableAmount(f"{len(recipients)} recipients do not fit in one transaction")
    transactions: list[Transaction] = []
    depth = 0
    while len(chosen) > limit:
        depth += 1
        if depth > MAX_CHAIN_DEPTH:
            raise UnpayableAmount("this payment needs too many small sources: send a smaller amount first")
        gathered: list[Spendable] = []
        whole = max_inputs(2, "")
        for start in range(0, len(chosen), whole):
            group = chosen[start : start + whole]
            if len(group) == 1:
                gathered.append(group[0])
                continue
            tx = _transaction(keypair, currency, blockstamp, group, [], "")
            transactions.append(tx)
            gathered.extend(
                Spendable(TransactionSource(tx.hash, index), output.amount, output.base)
                for index, output in enumerate(tx.outputs)
            )
        chosen = gathered
    transactions.append(_transaction(keypair, currency, blockstamp, chosen, list(recipients), comment))
    return transactions


def _choose(sources: Sequence[Spendable], asked: int) -> list[Spendable]:
    chosen: list[Spendable] = []
    total = 0
    for source in sorted(sources, key=lambda s: s.cents, reverse=True):
        if total >= asked:
            break
        chosen.append(source)
        total += source.cents
    return chosen


def _transaction(
    keypair: Keypair,
    currency: str,
    blockstamp: BlockRef,
    inputs: Sequence[Spendable],
    recipients: list[tuple[PublicKey, int]],
    comment: str,
) -> Transaction:
    """One signed transaction spending every input, paying `recipients`, the change to the sender."""
    base = max(s.base for s in inputs)
    unit = 10**base
    outputs: list[Output] = []
    for key, cents in recipients:
        if cents % unit:
            lower, upper = cents - cents % unit, cents - cents % unit + unit
            raise UnpayableAmount(
                f"the money is now written in units of {format_cents(unit)}: {format_cents(cents)} cannot be "
                f"paid exactly, pay {format_cents(lower)} or {format_cents(upper)}"
            )
        outputs.append(Output(cents // unit, base, sig_condition(key)))
    change = sum(s.cents for s in inputs) - sum(cents for _, cents in recipients)
    me = sig_condition(keypair.public_key)
    if change >= unit:
        outputs.append(Output(change // unit, base, me))
    remainder = change % unit  # finer than `base`: written digit by digit at the lower bases, which
    for lower in range(base):  # the inputs at those bases always cover (their sum ≡ it modulo 10^b)
        digit = remainder // 10**lower % 10
        if digit:
            outputs.append(Output(digit, lower, me))
    check_conservation([(s.amount, s.base) for s in inputs], [(o.amount, o.base) for o in outputs])
    unsigned = Transaction(
        currency=currency,
        block=blockstamp,
        locktime=0,
        issuers=(keypair.public_key,),
        inputs=tuple(Input(s.amount, s.base, s.source) for s in inputs),
        unlocks=tuple((SigProof(0),) for _ in inputs),
        outputs=tuple(outputs),
        comment=comment,
    )
    return unsigned.signed_by(keypair)
