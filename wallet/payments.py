"""Building payments: choose sources, write outputs and change, split into chained transactions.

Pure: the node gives the sources (UDs and outputs the key can spend alone), the wallet decides.
- Sources are taken largest first, so a payment uses as few inputs as possible.
- Outputs are written at the highest unit base among the inputs (value may only move to higher
  bases, rules.md §8.2); an amount that base cannot hold exactly is refused with the nearest ones.
  The change goes back to the sender; a remainder finer than that base is written at the lower
  bases, which the lower-base inputs always cover.
- The change goes back to the sender, or to another key of theirs (`change_to`). Sending
  everything spends every source and writes no change: the recipient takes what would have been
  the change, at every base, so nothing is left behind.
- Nothing is destroyed unless the member agreed: `destructions` says which accounts the 1-unit
  rule (BR_G106) would wipe after these transactions, from the balances before and each
  account's net change, so the command can refuse and offer the ways out.
- A transaction has at most 100 compact lines. When the payment needs more inputs than fit, the
  sources are first gathered into consolidation transactions (all to the sender), and the payment
  spends their outputs: transactions that chain, to be written in order (one block may hold a
  chain up to depth 5; the node's mempool accepts a transaction spending a pending one).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from protocol.amounts import amount_in_cents, check_conservation, destroyed_by_minimum, format_cents
from protocol.conditions import Sig, parse_condition, sig_condition
from protocol.crypto import PublicKey
from protocol.documents import BlockRef, Input, Output, SigProof, Transaction, TransactionSource
from protocol.documents.transaction import MAX_COMMENT_LENGTH, MAX_LINES, Source
from protocol.keys import Keypair
from wallet.errors import WalletError
from wallet.i18n import _

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
    *,
    change_to: PublicKey | None = None,
    everything_to: PublicKey | None = None,
) -> list[Transaction]:
    """Signed transactions paying `recipients` (key, cents) from `sources`, to submit in order.

    `change_to` receives the change instead of the sender; `everything_to` receives every source
    (then `recipients` must be empty).
    """
    if everything_to is not None:
        if recipients or change_to is not None:
            raise UnpayableAmount(_("sending everything goes to one recipient, with no change"))
        if not sources:
            raise NotEnoughMoney(_("nothing to send: the account is empty"))
        change_to, chosen = everything_to, list(sources)
    else:
        if not recipients:
            raise UnpayableAmount(_("no recipient"))
        if any(cents <= 0 for _, cents in recipients):
            raise UnpayableAmount(_("every amount must be positive"))
        asked = sum(cents for _, cents in recipients)
        balance = sum(s.cents for s in sources)
        if asked > balance:
            raise NotEnoughMoney(
                _("not enough money: balance {balance}, asked {asked}").format(
                    balance=format_cents(balance), asked=format_cents(asked)
                )
            )
        chosen = _choose(sources, asked)
    if len(comment) > MAX_COMMENT_LENGTH:
        raise UnpayableAmount(
            _("the comment has {count} characters, at most {most}").format(
                count=len(comment), most=MAX_COMMENT_LENGTH
            )
        )
    limit = max_inputs(len(recipients) + 2, comment)
    if limit < 1:
        raise UnpayableAmount(
            _("{count} recipients do not fit in one transaction").format(count=len(recipients))
        )
    transactions: list[Transaction] = []
    depth = 0
    while len(chosen) > limit:
        depth += 1
        if depth > MAX_CHAIN_DEPTH:
            raise UnpayableAmount(_("this payment needs too many small sources: send a smaller amount first"))
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
    final = _transaction(
        keypair, currency, blockstamp, chosen, list(recipients), comment, change_to=change_to
    )
    transactions.append(final)
    return transactions


@dataclass(frozen=True)
class Destruction:
    """An account the 1-unit rule would wipe: it would hold `after` cents, all destroyed."""

    key: PublicKey
    before: int
    after: int


def net_changes(transactions: Sequence[Transaction], sender: PublicKey) -> dict[PublicKey, int]:
    """What `transactions` (all issued by `sender`, paying `SIG(key)` outputs) change on each
    account, in cents: the sender's spent inputs out, every output in."""
    changes: defaultdict[PublicKey, int] = defaultdict(int)
    for tx in transactions:
        changes[sender] -= sum(amount_in_cents(i.amount, i.base) for i in tx.inputs)
        for output in tx.outputs:
            key = _sig_key(output.condition)
            if key is not None:
                changes[key] += amount_in_cents(output.amount, output.base)
    return dict(changes)


def destructions(
    balances: Mapping[PublicKey, int], changes: Mapping[PublicKey, int], unit_base: int
) -> list[Destruction]:
    """The accounts these changes would leave above zero but below the minimum (BR_G106 destroys
    them), from each account's balance before."""
    found = []
    for key, change in changes.items():
        before = balances.get(key, 0)
        if destroyed_by_minimum(before + change, unit_base):
            found.append(Destruction(key, before, before + change))
    return found


def _sig_key(condition: str) -> PublicKey | None:
    """The key of a plain `SIG(key)` condition (the only kind this module writes)."""
    parsed = parse_condition(condition)
    return parsed.key if isinstance(parsed, Sig) else None


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
    *,
    change_to: PublicKey | None = None,
) -> Transaction:
    """One signed transaction spending every input, paying `recipients`, the change to `change_to`
    (the sender by default)."""
    base = max(s.base for s in inputs)
    unit = 10**base
    outputs: list[Output] = []
    for key, cents in recipients:
        if cents % unit:
            lower, upper = cents - cents % unit, cents - cents % unit + unit
            raise UnpayableAmount(
                _(
                    "the money is now written in units of {unit}: {amount} cannot be paid exactly, "
                    "pay {lower} or {upper}"
                ).format(
                    unit=format_cents(unit),
                    amount=format_cents(cents),
                    lower=format_cents(lower),
                    upper=format_cents(upper),
                )
            )
        outputs.append(Output(cents // unit, base, sig_condition(key)))
    change = sum(s.cents for s in inputs) - sum(cents for _, cents in recipients)
    me = sig_condition(change_to or keypair.public_key)
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
