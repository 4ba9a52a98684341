"""`june balance`, `june send`, `june history`, `june money`: money in units and in UD.

Reading an account needs only its public key (no passphrase). Paying never destroys money
silently: before anything is signed, the wallet works out every account the payment touches and
refuses one that the 1-unit rule (BR_G106) would wipe, saying why and the ways out, unless the
member agreed with `--allow-dust`.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from protocol.amounts import account_minimum, format_cents
from protocol.conditions import Sig, parse_condition
from protocol.crypto import PublicKey, hash_hex, parse_hash_hex
from protocol.documents import BlockRef, DividendSource, Transaction, TransactionSource
from protocol.errors import ProtocolError
from protocol.keys import parse_pubkey, pubkey_display, pubkey_to_base58
from protocol.names import Named
from wallet.accounts import Labels, resolve
from wallet.amounts import UD_ROUNDING, format_ud, in_dividends, parse_amount, parse_ud_amount
from wallet.client import NodeClient
from wallet.commands.documents import describe_answer, follow_hint
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.files import read_bounded
from wallet.i18n import N_, _, ngettext
from wallet.journal import remember_sent
from wallet.options import json_option, spending_options
from wallet.payments import Destruction, Spendable, build_payment, destructions, net_changes
from wallet.render import console, emit, humanize, moment

#: A recipients file is small: this many bytes at most.
MAX_RECIPIENTS_FILE = 1 << 20


class DustRefused(WalletError):
    """The payment would leave an account below the minimum, which the rules destroy."""


def spendable(sources: list[dict[str, Any]]) -> list[Spendable]:
    result = []
    for item in sources:
        if item["type"] == "D":
            source: DividendSource | TransactionSource = DividendSource(
                parse_pubkey(item["member"]), item["block"]
            )
        else:
            source = TransactionSource(parse_hash_hex(item["tx"]), item["index"])
        result.append(Spendable(source, item["amount"], item["base"]))
    return result


#: Pages of sources read at most for one account (the node lists 5,000 per page).
MAX_SOURCE_PAGES = 40


def current_money(client: NodeClient) -> dict[str, Any]:
    money: dict[str, Any] = client.get("/currency")["money"]
    return money


def account_balance(client: NodeClient, key: PublicKey) -> dict[str, Any]:
    """The balance and every source of `key`: the node lists them a page at a time (a member holds
    one UD a day), so ask for the next pages while it says there are more."""
    path = f"/sources/{pubkey_to_base58(key)}"
    answer: dict[str, Any] = client.get(path)
    for _page in range(MAX_SOURCE_PAGES):
        if not answer.get("more"):
            break
        following = client.get(f"{path}?skip={len(answer['sources'])}")
        answer["sources"] += following["sources"]
        answer["more"] = following.get("more", False)
    return answer


def named_accounts(ctx: WalletContext, client: NodeClient, who: tuple[str, ...]) -> list[Named]:
    """The accounts named on the command line, or the member's own (read without the passphrase)."""
    if not who:
        return [Named(ctx.public_key(), None)]
    return [resolve(client, text) for text in who]


@click.command(
    help=_(
        "Balance of your account, or of each WHO (uids or public keys) and their total, in units "
        "and in UD. Needs no passphrase."
    )
)
@click.argument("who", nargs=-1)
@json_option
@click.pass_obj
def balance(ctx: WalletContext, who: tuple[str, ...]) -> None:
    """Read balances without the secret: a public key is enough."""
    client = ctx.client()
    accounts = named_accounts(ctx, client, who)
    money = current_money(client)
    ud = money["dividend_cents"]
    labels = Labels(client, full=ctx.full_pubkey)
    rows: list[dict[str, Any]] = []
    for named in accounts:
        answer = account_balance(client, named.key)
        cents = int(answer["balance"])
        uid = named.uid or labels.uid(named.key)
        rows.append(
            {
                "pubkey": pubkey_display(named.key),
                "uid": uid,
                "balance": cents,
                "balance_ud": _ud_text(cents, ud),
                "sources": len(answer["sources"]),
            }
        )
    total = sum(row["balance"] for row in rows)
    lines = [
        ngettext(
            "{who}: {amount} ({ud}) in {count} source",
            "{who}: {amount} ({ud}) in {count} sources",
            row["sources"],
        ).format(
            who=labels(parse_pubkey(row["pubkey"])),
            amount=format_cents(row["balance"]),
            ud=format_ud(row["balance"], ud),
            count=row["sources"],
        )
        for row in rows
    ]
    if len(rows) == 1:
        emit(ctx, rows[0] | {"dividend_cents": ud}, lines[0])
        return
    lines.append(
        _("total: {amount} ({ud}) in {count} accounts").format(
            amount=format_cents(total), ud=format_ud(total, ud), count=len(rows)
        )
    )
    data = {"accounts": rows, "total": total, "total_ud": _ud_text(total, ud), "dividend_cents": ud}
    emit(ctx, data, "\n".join(lines))


def _ud_text(cents: int, dividend_cents: int) -> str | None:
    value = in_dividends(cents, dividend_cents)
    return None if value is None else str(value)


@dataclass(frozen=True)
class Payment:
    """One line of a payment: who, how much (cents), and how it was asked."""

    named: Named
    cents: int
    asked: str


def read_recipients_file(path: Path) -> list[tuple[str, str, bool]]:
    """(recipient, amount, in UD) from a recipients file.

    June's form: one `RECIPIENT AMOUNT` per line. Silkaj's form is read too: a first line
    `ABSOLUTE` (units) or `RELATIVE` (UD), then one `AMOUNT PUBKEY` per line. Blank lines and
    lines starting with `#` are skipped.
    """
    data = read_bounded(path, MAX_RECIPIENTS_FILE, "a recipients file")
    lines = [
        (number, line.strip())
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1)
        if line.strip() and not line.strip().startswith("#")
    ]
    silkaj = bool(lines) and lines[0][1].upper() in ("ABSOLUTE", "RELATIVE")
    in_ud = silkaj and lines[0][1].upper() == "RELATIVE"
    found = []
    for number, line in lines[1:] if silkaj else lines:
        parts = line.split()
        if len(parts) != 2:
            raise InputError(
                _("{where}: expected {form}, got {line}").format(
                    where=f"{path}:{number}",
                    form=_("AMOUNT PUBKEY (Silkaj's form)") if silkaj else _("RECIPIENT AMOUNT"),
                    line=repr(line[:80]),
                )
            )
        recipient, amount = (parts[1], parts[0]) if silkaj else (parts[0], parts[1])
        found.append((recipient, amount, in_ud))
    if not found:
        raise InputError(_("{path}: no recipient in the file").format(path=path))
    return found


def _payments(client: NodeClient, asked: list[tuple[str, str, bool]], dividend_cents: int) -> list[Payment]:
    payments = []
    for text, amount_text, in_ud in asked:
        named = resolve(client, text)
        if in_ud:
            cents = parse_ud_amount(amount_text, dividend_cents)
            shown = f"{amount_text} UD"
        else:
            cents = parse_amount(amount_text)
            shown = amount_text
        payments.append(Payment(named, cents, shown))
    return payments


def _dust_message(
    found: list[Destruction], me: PublicKey, labels: Labels, unit_base: int, asked_total: int | None
) -> str:
    """Why the payment is refused, and what the member can do instead."""
    minimum = account_minimum(unit_base)
    lines = []
    for loss in found:
        if loss.key == me:
            lines.append(
                _(
                    "This payment would leave {left} on your account: below {minimum}, the 1-unit rule "
                    "destroys it. Instead:"
                ).format(left=format_cents(loss.after), minimum=format_cents(minimum))
            )
            lines.append("  • " + _("send everything to the recipient: june send --all RECIPIENT"))
            if asked_total is not None and loss.before - minimum > 0:
                lines.append(
                    "  • "
                    + _("send at most {most} in all, so that {minimum} stays").format(
                        most=format_cents(loss.before - minimum), minimum=format_cents(minimum)
                    )
                )
        else:
            lines.append(
                _(
                    "{who} would hold only {left} after this payment: below {minimum}, the 1-unit rule "
                    "destroys it. Instead:"
                ).format(who=labels(loss.key), left=format_cents(loss.after), minimum=format_cents(minimum))
            )
            lines.append(
                "  • " + _("pay at least {least} to it").format(least=format_cents(minimum - loss.before))
            )
    lines.append(
        "  • "
        + _("or pay anyway and let {destroyed} be destroyed: --allow-dust").format(
            destroyed=format_cents(sum(f.after for f in found))
        )
    )
    return "\n".join(lines)


@click.command(
    help=_(
        "Pay one or several recipients (uid, @uid, public key or KEY:CHK); the change comes back to you.\n\n"
        "`june send --all RECIPIENT` empties the account into RECIPIENT, leaving nothing to destroy."
    )
)
@click.argument("pairs", nargs=-1, metavar=_("RECIPIENT AMOUNT [RECIPIENT AMOUNT]..."))
@click.option("--comment", default="", help=_("A comment written in the transaction (public)."))
@click.option(
    "--ud",
    "in_ud",
    is_flag=True,
    help=_("Amounts are in UD, not in units (rounded {rounding}).").format(rounding=_(UD_ROUNDING)),
)
@click.option(
    "--file",
    "recipients_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=_("Read recipients from FILE: `RECIPIENT AMOUNT` per line (Silkaj's ABSOLUTE/RELATIVE files too)."),
)
@click.option("--all", "send_all", is_flag=True, help=_("Send everything on the account to one RECIPIENT."))
@click.option(
    "--change", "change_text", metavar="KEY", help=_("Send the change to this key instead of yours.")
)
@spending_options
@json_option
@click.pass_obj
def send(
    ctx: WalletContext,
    pairs: tuple[str, ...],
    comment: str,
    in_ud: bool,
    recipients_file: Path | None,
    send_all: bool,
    change_text: str | None,
    dry_run: bool,
    allow_dust: bool,
) -> None:
    """Read who is paid how much (arguments, a file, or everything to one), then `pay_out`."""
    client = ctx.client()
    money = current_money(client)
    ud = money["dividend_cents"]
    everything: Named | None = None
    if send_all:
        if len(pairs) != 1 or recipients_file is not None or change_text is not None:
            raise click.UsageError(_("--all takes exactly one RECIPIENT, no amount, no --file nor --change"))
        everything = resolve(client, pairs[0])
        payments: list[Payment] = []
    else:
        if len(pairs) % 2:
            raise click.UsageError(_("give a RECIPIENT and an AMOUNT for each payment"))
        asked = [(text, amount, in_ud) for text, amount in zip(pairs[::2], pairs[1::2], strict=True)]
        if recipients_file is not None:
            asked += read_recipients_file(recipients_file)
        if not asked:
            raise click.UsageError(_("give a RECIPIENT and an AMOUNT, or --file, or --all RECIPIENT"))
        payments = _payments(client, asked, ud)
    change_to = None if change_text is None else resolve(client, change_text).key
    pay_out(
        ctx,
        client,
        money,
        payments,
        comment,
        change_to=change_to,
        everything=everything,
        dry_run=dry_run,
        allow_dust=allow_dust,
    )


def pay_out(
    ctx: WalletContext,
    client: NodeClient,
    money: dict[str, Any],
    payments: list[Payment],
    comment: str,
    *,
    change_to: PublicKey | None = None,
    everything: Named | None = None,
    dry_run: bool = False,
    allow_dust: bool = False,
    extra: dict[str, Any] | None = None,
) -> None:
    """Build, check, confirm and submit a payment: the one path `june send` and `june pay` share.

    Nothing is signed before the secret is given, nothing sent before every touched account is
    checked against the 1-unit rule and the member confirmed (or gave `--yes`); `extra` is added
    to the JSON answer (`june pay` puts the request there).
    """
    ud, unit_base, now = money["dividend_cents"], money["unit_base"], money.get("median_time")
    keypair = ctx.keypair()
    me = keypair.public_key
    node = client.get("/node")
    head = node["head"]
    if head is None:
        raise WalletError(_("the node has no chain yet"))
    mine = account_balance(client, me)
    transactions = build_payment(
        keypair,
        node["currency"],
        BlockRef(head["number"], parse_hash_hex(head["hash"])),
        spendable(mine["sources"]),
        [(p.named.key, p.cents) for p in payments],
        comment,
        change_to=change_to,
        everything_to=None if everything is None else everything.key,
    )
    labels = Labels(client, full=ctx.full_pubkey)
    for named in [p.named for p in payments] + ([everything] if everything else []):
        if named.uid is not None:
            labels.uids[named.key] = named.uid
    changes = net_changes(transactions, me)
    balances = {me: int(mine["balance"])}
    for key in changes:
        if key not in balances:
            balances[key] = int(account_balance(client, key)["balance"])
    losses = destructions(balances, changes, unit_base)
    total = int(mine["balance"]) if everything else sum(p.cents for p in payments)
    if losses and not allow_dust:
        raise DustRefused(_dust_message(losses, me, labels, unit_base, None if everything else total))
    shown = [
        _("{amount} ({ud}) to {who}").format(
            amount=format_cents(p.cents), ud=format_ud(p.cents, ud), who=labels(p.named.key)
        )
        for p in payments
    ]
    if everything is not None:
        shown = [
            _("everything, {amount} ({ud}), to {who}").format(
                amount=format_cents(total), ud=format_ud(total, ud), who=labels(everything.key)
            )
        ]
    after = balances[me] + changes.get(me, 0)
    summary = _("{payments}. Your balance after: {balance}").format(
        payments="; ".join(shown), balance=format_cents(after if after >= 0 else 0)
    )
    if change_to is not None:
        summary += _("; the change goes to {who}").format(who=labels(change_to))
    if losses:
        summary += _(". DESTROYED by the 1-unit rule: ") + ", ".join(
            _("{amount} of {who}").format(amount=format_cents(loss.after), who=labels(loss.key))
            for loss in losses
        )
    if dry_run:
        _show_documents(ctx, transactions, summary, labels, extra or {})
        return
    if not ctx.assume_yes and not ctx.json:
        click.confirm(_("Send {summary}?").format(summary=summary), abort=True, err=True)
    answers = [client.submit(tx.to_bytes()) for tx in transactions]
    _remember(answers, shown)
    hashes = [str(a["hash"]) for a in answers]
    emit(
        ctx,
        {
            "transactions": hashes,
            "results": [a["result"] for a in answers],
            "answers": answers,
            "amount": total,
            "destroyed": sum(loss.after for loss in losses),
        }
        | (extra or {}),
        ngettext(
            "Sent {payments} in {count} transaction; it is final once written in a block.",
            "Sent {payments} in {count} transactions; it is final once written in a block.",
            len(transactions),
        ).format(payments="; ".join(shown), count=len(transactions))
        + "\n"
        + "".join(
            f"  {h[:16]}…  {humanize(describe_answer(a), now)}\n"
            for h, a in zip(hashes, answers, strict=True)
        )
        + follow_hint(hashes),
    )


def _remember(answers: list[dict[str, Any]], shown: list[str]) -> None:
    """Note each transaction the node acknowledged, for `june check`."""
    for answer in answers:
        remember_sent(answer, "transaction", "; ".join(shown))


def _show_documents(
    ctx: WalletContext, transactions: list[Transaction], summary: str, labels: Labels, extra: dict[str, Any]
) -> None:
    """`--dry-run`: the signed documents, readable, and their bytes for scripts; nothing is sent."""
    documents = [_transaction_view(tx) for tx in transactions]
    human = [_("Dry run, nothing sent: {summary}").format(summary=summary)]
    for view in documents:
        human.append("\n" + _("Transaction {hash}").format(hash=view["hash"]))
        human.append(f"  currency   {view['currency']}")
        human.append(f"  blockstamp {view['blockstamp']}")
        human.append(f"  issuers    {', '.join(view['issuers'])}")
        human.append("  inputs     " + "\n             ".join(view["inputs"]))
        human.append("  unlocks    " + "\n             ".join(view["unlocks"]))
        human.append("  outputs    " + "\n             ".join(view["outputs"]))
        human.append(f"  comment    {view['comment']!r}")
        human.append(f"  signature  {view['signatures'][0]}")
    emit(ctx, {"dry_run": True, "documents": documents} | extra, "\n".join(human))


def _transaction_view(tx: Transaction) -> dict[str, Any]:
    def source(item: DividendSource | TransactionSource) -> str:
        if isinstance(item, DividendSource):
            return f"D:{pubkey_to_base58(item.member)}:{item.block_number}"
        return f"T:{hash_hex(item.tx_hash)}:{item.index}"

    return {
        "hash": hash_hex(tx.hash),
        "currency": tx.currency,
        "blockstamp": f"{tx.block.number}-{hash_hex(tx.block.hash)}",
        "locktime": tx.locktime,
        "issuers": [pubkey_display(k) for k in tx.issuers],
        "inputs": [f"{i.amount}:{i.base}:{source(i.source)}" for i in tx.inputs],
        "unlocks": [f"{n}:" + " ".join(str(p) for p in proofs) for n, proofs in enumerate(tx.unlocks)],
        "outputs": [f"{o.amount}:{o.base}:{o.condition}" for o in tx.outputs],
        "comment": tx.comment,
        "signatures": [s.hex().upper() for s in tx.signatures],
        "bytes": tx.to_bytes().hex(),
    }


#: How history kinds read in the table.
KIND_LABELS = {
    "dividend": N_("UD"),
    "received": N_("received"),
    "sent": N_("sent"),
    "consolidation": N_("consolidation (to yourself)"),
    "destroyed": N_("destroyed by the 1-unit rule"),
}


def _counterpart(text: str, labels: Labels) -> str:
    """A counterpart as the node gives it (a key `KEY:CHK`, or a condition), in words."""
    try:
        condition = parse_condition(text) if text.startswith("SIG(") else None
        key = condition.key if isinstance(condition, Sig) else parse_pubkey(text)
    except ProtocolError:
        return text
    return labels(key)


@click.command(
    help=_(
        "Payments, UDs and money destroyed by the 1-unit rule on your account (or WHO's), newest "
        "first, with names. Needs no passphrase."
    )
)
@click.argument("who", required=False)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help=_("How many entries at most."),
)
@click.option("--csv", "as_csv", is_flag=True, help=_("Print CSV."))
@json_option
@click.pass_obj
def history(ctx: WalletContext, who: str | None, limit: int, as_csv: bool) -> None:
    """Read an account's history without the secret; names come with the node's answer."""
    client = ctx.client()
    named = named_accounts(ctx, client, (who,) if who else ())[0]
    answer = client.get(f"/history/{pubkey_to_base58(named.key)}", limit=limit)
    entries = answer["history"]
    if ctx.json:
        emit(ctx, {"pubkey": pubkey_display(named.key), "uid": named.uid} | answer, "")
        return
    labels = Labels(client, full=ctx.full_pubkey)
    labels.learn(answer.get("names", {}))
    rows = [
        [
            str(e["block"]),
            moment(e["time"], None),
            _(KIND_LABELS[e["kind"]]) if e["kind"] in KIND_LABELS else e["kind"],
            format_cents(int(e["amount"])),
            ", ".join(_counterpart(c, labels) for c in e["counterparts"]),
            e["comment"],
            e["tx"] or "",
        ]
        for e in entries
    ]
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["block", "date", "kind", "amount", "counterparts", "comment", "tx"])
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
        return
    table = Table(title=_("History of {who}").format(who=labels(named.key)))
    columns = (_("block"), _("date"), _("kind"), _("amount"), _("with"), _("comment"))
    for number, column in enumerate(columns):
        table.add_column(column, justify="right" if number in (0, 3) else "left")
    for row in rows:
        table.add_row(*row[:6])
    console().print(table)


@click.command(help=_("The money of the currency: UD, monetary mass M, members N, M/N, next dates."))
@json_option
@click.pass_obj
def money(ctx: WalletContext) -> None:
    """Show the currency's figures as the node computes them."""
    figures = current_money(ctx.client())
    now = figures.get("median_time")
    ud = figures["dividend_cents"]
    rows = [
        (_("UD"), format_cents(ud)),
        (_("members N"), str(figures["members"])),
        (_("mass M"), format_cents(figures["monetary_mass"])),
        (
            _("M/N"),
            f"{format_cents(figures['mass_per_member'])} ({format_ud(figures['mass_per_member'], ud)})",
        ),
        (
            _("next UD"),
            f"{moment(figures['next_dividend_time'], now)} ({format_cents(figures['next_dividend_cents'])})",
        ),
        (_("next reeval."), moment(figures["next_reevaluation_time"], now)),
    ]
    width = max(len(label) for label, _value in rows) + 2
    human = "\n".join(f"{label.ljust(width)}{value}" for label, value in rows)
    emit(ctx, figures, human)
