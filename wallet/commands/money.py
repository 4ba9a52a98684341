"""`june balance`, `june send`, `june history`, `june money`: money in units and in UD."""

import csv
import io
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from protocol.crypto import PublicKey, parse_hash_hex
from protocol.documents import BlockRef, DividendSource, TransactionSource
from protocol.keys import parse_pubkey, pubkey_display, pubkey_to_base58
from wallet.amounts import format_amount, in_dividends, parse_amount
from wallet.client import NodeClient
from wallet.commands.documents import describe_answer, follow_hint
from wallet.context import WalletContext
from wallet.errors import InputError
from wallet.options import json_option
from wallet.payments import Spendable, build_payment
from wallet.render import date, emit


def resolve_recipient(client: NodeClient, text: str) -> tuple[PublicKey, str]:
    """A public key (with or without checksum) or a uid, to (key, how to show it)."""
    if 40 <= len(text.partition(":")[0]) <= 44:
        key = parse_pubkey(text)
        return key, pubkey_display(key)
    identity = client.get(f"/identities/{text}")
    key = parse_pubkey(identity["pubkey"])
    return key, f"{identity['uid']} ({identity['pubkey']})"


def account_key(ctx: WalletContext, who: str | None) -> PublicKey:
    if who is None:
        return ctx.keypair().public_key
    return resolve_recipient(ctx.client(), who)[0]


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


def current_money(client: NodeClient) -> dict[str, Any]:
    money: dict[str, Any] = client.get("/currency")["money"]
    return money


@click.command()
@click.argument("who", required=False)
@json_option
@click.pass_obj
def balance(ctx: WalletContext, who: str | None) -> None:
    """Balance of your account (or of WHO: a uid or a public key), in units and in UD."""
    client = ctx.client()
    key = account_key(ctx, who)
    sources = client.get(f"/sources/{pubkey_to_base58(key)}")
    money = current_money(client)
    cents = sources["balance"]
    emit(
        ctx,
        {
            "pubkey": pubkey_display(key),
            "balance": cents,
            "balance_ud": round(cents / money["dividend_cents"], 4) if money["dividend_cents"] else None,
            "sources": len(sources["sources"]),
        },
        f"{pubkey_display(key)}: {format_amount(cents)} ({in_dividends(cents, money['dividend_cents'])}) "
        f"in {len(sources['sources'])} source(s)",
    )


@click.command()
@click.argument("pairs", nargs=-1, required=True, metavar="RECIPIENT AMOUNT [RECIPIENT AMOUNT]...")
@click.option("--comment", default="", help="A comment written in the transaction (public).")
@click.option("--ud", "in_ud", is_flag=True, help="Amounts are in UD, not in units.")
@json_option
@click.pass_obj
def send(ctx: WalletContext, pairs: tuple[str, ...], comment: str, in_ud: bool) -> None:
    """Pay one or several recipients (uid or public key); the change comes back to you."""
    if len(pairs) % 2:
        raise click.UsageError("give a RECIPIENT and an AMOUNT for each payment")
    client = ctx.client()
    money = current_money(client)
    recipients: list[tuple[PublicKey, int]] = []
    shown = []
    for text, amount_text in zip(pairs[::2], pairs[1::2], strict=True):
        key, label = resolve_recipient(client, text)
        if in_ud:
            try:
                cents = round(float(amount_text) * money["dividend_cents"])
            except ValueError as exc:
                raise InputError(f"not an amount in UD: {amount_text!r}") from exc
        else:
            cents = parse_amount(amount_text)
        recipients.append((key, cents))
        shown.append(f"{format_amount(cents)} to {label}")
    keypair = ctx.keypair()
    node = client.get("/node")
    head = node["head"]
    sources = client.get(f"/sources/{pubkey_to_base58(keypair.public_key)}")
    transactions = build_payment(
        keypair,
        node["currency"],
        BlockRef(head["number"], parse_hash_hex(head["hash"])),
        spendable(sources["sources"]),
        recipients,
        comment,
    )
    if not ctx.assume_yes and not ctx.json:
        click.confirm(f"Send {', '.join(shown)}?", abort=True, err=True)
    answers = [client.submit(tx.to_bytes()) for tx in transactions]
    total = sum(cents for _, cents in recipients)
    hashes = [str(a["hash"]) for a in answers]
    emit(
        ctx,
        {
            "transactions": hashes,
            "results": [a["result"] for a in answers],
            "answers": answers,
            "amount": total,
        },
        f"Sent {', '.join(shown)} in {len(transactions)} transaction(s); "
        "it is final once written in a block.\n"
        + "".join(f"  {h[:16]}…  {describe_answer(a)}\n" for h, a in zip(hashes, answers, strict=True))
        + follow_hint(hashes),
    )


@click.command()
@click.argument("who", required=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@json_option
@click.pass_obj
def history(ctx: WalletContext, who: str | None, limit: int, as_csv: bool) -> None:
    """Payments and UDs of your account (or of WHO), newest first."""
    client = ctx.client()
    key = account_key(ctx, who)
    entries = client.get(f"/history/{pubkey_to_base58(key)}", limit=limit)["history"]
    if ctx.json:
        emit(ctx, {"pubkey": pubkey_display(key), "history": entries}, "")
        return
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["block", "date", "kind", "amount", "counterparts", "comment", "tx"])
        for e in entries:
            writer.writerow(
                [
                    e["block"],
                    date(e["time"]),
                    e["kind"],
                    e["amount_text"],
                    " ".join(e["counterparts"]),
                    e["comment"],
                    e["tx"] or "",
                ]
            )
        click.echo(out.getvalue(), nl=False)
        return
    table = Table(title=f"History of {pubkey_display(key)}")
    for column in ("block", "date", "kind", "amount", "with", "comment"):
        table.add_column(column, justify="right" if column in ("block", "amount") else "left")
    for e in entries:
        others = ", ".join(c.removeprefix("SIG(").removesuffix(")")[:12] for c in e["counterparts"])
        table.add_row(str(e["block"]), date(e["time"]), e["kind"], e["amount_text"], others, e["comment"])
    Console().print(table)


@click.command()
@json_option
@click.pass_obj
def money(ctx: WalletContext) -> None:
    """The money of the currency: UD, monetary mass M, members N, M/N, next dates."""
    figures = current_money(ctx.client())
    human = "\n".join(
        [
            f"UD            {figures['dividend_text']}",
            f"members N     {figures['members']}",
            f"mass M        {figures['monetary_mass_text']}",
            f"M/N           {figures['mass_per_member_text']} ({figures['mass_per_member_in_ud']} UD)",
            f"next UD       {date(figures['next_dividend_time'])} UTC (median time)",
            f"next reeval.  {date(figures['next_reevaluation_time'])} UTC",
        ]
    )
    emit(ctx, figures, human)
