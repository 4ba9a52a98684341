"""`june pay URI`: pay a `june:` payment request (docs/payment-uri.md), e.g. a hacklab's donation link.

The request is read by `protocol.payment_uri`, shown in full (who, how much in units and in UD,
the comment, the currency), then paid through `june send`'s own path (`pay_out`): the same
1-unit-rule checks, the same confirmation, the same answer. The member may choose the amount only
when the request leaves it open: an amount given beside a request's own must come to the same.
"""

from typing import Any

import click

from protocol.amounts import format_cents
from protocol.keys import pubkey_display
from protocol.names import Named
from protocol.payment_uri import PaymentRequest, PaymentUriError, format_payment_uri, parse_payment_uri
from wallet.accounts import Labels
from wallet.amounts import format_ud, in_dividends, parse_amount, parse_ud_amount
from wallet.commands.money import Payment, current_money, pay_out
from wallet.context import WalletContext
from wallet.errors import InputError, WalletError
from wallet.i18n import _
from wallet.options import json_option, spending_options


class WrongCurrency(WalletError):
    """The request is for another currency than the node's: paying it would pay the wrong money."""


def requested_cents(
    request: PaymentRequest, amount_text: str | None, ud_text: str | None, dividend_cents: int
) -> int:
    """The cents to pay: the request's amount, or the one the member gave when it leaves it open;
    both given must come to the same cents (a member does not silently pay another sum)."""
    if amount_text is not None and ud_text is not None:
        raise InputError(_("give --amount or --ud, not both"))
    given: int | None = None
    if amount_text is not None:
        given = parse_amount(amount_text)
    elif ud_text is not None:
        given = parse_ud_amount(ud_text, dividend_cents)
    asked: int | None = None
    if request.amount_cents is not None:
        asked = request.amount_cents
    elif request.amount_ud is not None:
        asked = parse_ud_amount(format(request.amount_ud, "f"), dividend_cents)
    if asked is None:
        if given is None:
            raise InputError(_("this request does not say how much to pay: give --amount X or --ud X"))
        return given
    if given is not None and given != asked:
        raise InputError(
            _("this request asks for {asked}, not {given}: pay it as it is, or ask for another one").format(
                asked=format_cents(asked), given=format_cents(given)
            )
        )
    return asked


def check_currency(request: PaymentRequest, node_currency: str) -> None:
    """Refuse a request made for another currency (a test currency's request on the real one)."""
    if request.currency is not None and request.currency != node_currency:
        raise WrongCurrency(
            _(
                "this request is for the currency {asked}, but the node serves {served}: "
                "nothing was paid (use a node of {asked})"
            ).format(asked=request.currency, served=node_currency)
        )


def describe_request(
    request: PaymentRequest, uid: str | None, cents: int, dividend_cents: int, currency: str
) -> dict[str, Any]:
    """What `--json` says of the request, beside `june send`'s answer."""
    value = in_dividends(cents, dividend_cents)
    return {
        "uri": format_payment_uri(request),
        "recipient": pubkey_display(request.recipient),
        "uid": uid,
        "amount": cents,
        "amount_ud": None if value is None else str(value),
        "requested_ud": None if request.amount_ud is None else str(request.amount_ud),
        "comment": request.comment,
        "currency": currency,
    }


def request_lines(
    request: PaymentRequest, uid: str | None, cents: int, dividend_cents: int, currency: str
) -> str:
    """The request as a member reads it before confirming: every key with its checksum, in full."""
    who = pubkey_display(request.recipient)
    rows = [
        (_("to"), who if uid is None else f"{uid} ({who})"),
        (_("amount"), f"{format_cents(cents)} ({format_ud(cents, dividend_cents)})"),
    ]
    if request.amount_ud is not None:
        rows.append((_("asked"), _("{ud} UD, at today's UD").format(ud=request.amount_ud)))
    rows.append((_("comment"), request.comment or _("(none)")))
    rows.append((_("currency"), currency))
    width = max(len(label) for label, _value in rows)
    return _("Payment request:") + "".join(f"\n  {label.ljust(width)}  {value}" for label, value in rows)


@click.command(
    help=_(
        "Pay a payment request june:KEY:CHK?amount=…&comment=… (a donation link or QR code) after showing it."
    )
)
@click.argument("uri")
@click.option("--amount", "amount_text", metavar="X", help=_("Amount in units, when the request gives none."))
@click.option("--ud", "ud_text", metavar="X", help=_("Amount in UD, when the request gives none."))
@spending_options
@json_option
@click.pass_obj
def pay(
    ctx: WalletContext,
    uri: str,
    amount_text: str | None,
    ud_text: str | None,
    dry_run: bool,
    allow_dust: bool,
) -> None:
    """Show the request, check its currency and amount, then pay it as `june send` would."""
    try:
        request = parse_payment_uri(uri)
    except PaymentUriError as exc:
        raise InputError(_("this payment request cannot be paid: {reason}").format(reason=exc)) from exc
    client = ctx.client()
    currency = str(client.get("/node")["currency"])
    check_currency(request, currency)
    money = current_money(client)
    ud = money["dividend_cents"]
    cents = requested_cents(request, amount_text, ud_text, ud)
    uid = Labels(client).uid(request.recipient)
    if not ctx.json:
        click.echo(request_lines(request, uid, cents, ud, currency), err=True)
    shown = f"{request.amount_ud} UD" if request.amount_ud is not None else format_cents(cents)
    pay_out(
        ctx,
        client,
        money,
        [Payment(Named(request.recipient, uid), cents, shown)],
        request.comment,
        dry_run=dry_run,
        allow_dust=allow_dust,
        extra={"request": describe_request(request, uid, cents, ud, currency)},
    )


__all__ = ["WrongCurrency", "check_currency", "pay", "requested_cents"]
