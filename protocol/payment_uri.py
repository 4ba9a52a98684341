"""Payment requests written as `june:` URIs, e.g. for a donation page's link and QR code.

    june:<base58 key>:<checksum>?amount=12.50&comment=Don%20au%20hacklab&currency=g1-test

Pure text in, dataclass out (no I/O): the node's web pages write these URIs and `june pay` reads
them, so both sides share one format (docs/payment-uri.md gives the reasons for each choice). A
request the wallet does not fully understand is refused rather than paid approximately.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, unquote_to_bytes

from protocol.amounts import format_cents
from protocol.crypto import PUBLIC_KEY_SIZE, PublicKey
from protocol.documents.transaction import COMMENT_PATTERN, MAX_COMMENT_LENGTH
from protocol.errors import InvalidKey, ProtocolError
from protocol.fields import CURRENCY_PATTERN, MAX_INT
from protocol.keys import parse_pubkey, pubkey_display, pubkey_to_base58

SCHEME = "june"
#: Longest URI parsed: a full request is about 400 characters; a QR code stays readable well below this.
MAX_URI_LENGTH = 2000
#: Longest amount in UD as written (digits and point), so a hostile value cannot cost a big Decimal.
MAX_UD_TEXT_LENGTH = 30

_AMOUNT = re.compile(r"\d{1,17}(\.\d{1,2})?")
_UD_AMOUNT = re.compile(r"\d+(\.\d+)?")
_BASE58 = "[1-9A-HJ-NP-Za-km-z]"
_KEY_PART = re.compile(rf"{_BASE58}+(:{_BASE58}*)?")
#: A character a URI may not hold as written (RFC 3986 allows unreserved, reserved and `%`).
_NOT_URI_CHAR = re.compile(r"[^A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%#]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
#: Parameters June understands; any other is ignored unless it starts with `req-` (as in BIP 21).
_KNOWN = ("amount", "ud", "comment", "currency")


class PaymentUriError(ProtocolError, ValueError):
    """A payment URI or request that cannot be paid as written; the message says why."""


@dataclass(frozen=True)
class PaymentRequest:
    """Who to pay, and optionally how much (in cents or in UD, never both), why, in which currency.

    Checked on construction, so a request that exists can always be written and read back.
    """

    recipient: PublicKey
    amount_cents: int | None = None
    amount_ud: Decimal | None = None
    comment: str = ""
    currency: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.recipient, bytes) or len(self.recipient) != PUBLIC_KEY_SIZE:
            raise PaymentUriError(f"the recipient must be a {PUBLIC_KEY_SIZE}-byte public key")
        try:  # a key June cannot read back (Base58 under 40 characters) is no key anyone holds
            parse_pubkey(pubkey_to_base58(self.recipient))
        except InvalidKey as exc:
            raise PaymentUriError(f"the recipient's key is wrong: {exc}") from exc
        if self.amount_cents is not None and self.amount_ud is not None:
            raise PaymentUriError("a request gives an amount in units or in UD, not both")
        if self.amount_cents is not None:
            _check_cents(self.amount_cents)
        if self.amount_ud is not None:
            _check_ud(self.amount_ud)
        _check_comment(self.comment)
        if self.currency is not None:
            _check_currency(self.currency)


def format_payment_uri(request: PaymentRequest) -> str:
    """The `june:` URI of `request`: key with its checksum, then the parameters it sets, in a fixed
    order, percent-encoded as UTF-8 (so one request always gives the same URI and QR code)."""
    params: list[str] = []
    if request.amount_cents is not None:
        params.append(f"amount={format_cents(request.amount_cents)}")
    if request.amount_ud is not None:
        params.append(f"ud={_ud_text(request.amount_ud)}")
    if request.comment:
        params.append(f"comment={quote(request.comment, safe='')}")
    if request.currency is not None:
        params.append(f"currency={quote(request.currency, safe='')}")
    query = "?" + "&".join(params) if params else ""
    return f"{SCHEME}:{pubkey_display(request.recipient)}{query}"


def parse_payment_uri(text: str) -> PaymentRequest:
    """Read a `june:` URI; raise `PaymentUriError` naming the first thing that is wrong.

    The checksum after the key is optional but verified when present; unknown parameters are
    ignored unless they start with `req-`; a repeated parameter is refused (which one counts would
    be a guess).
    """
    # Verify the size before anything else, then the characters a URI may hold.
    if not isinstance(text, str):
        raise PaymentUriError("a payment URI is text")
    text = text.strip()
    if len(text) > MAX_URI_LENGTH:
        raise PaymentUriError(f"the URI has {len(text)} characters, at most {MAX_URI_LENGTH}")
    if "#" in text:
        raise PaymentUriError("a payment URI has no fragment: write # as %23")
    bad = _NOT_URI_CHAR.search(text)
    if bad is not None:
        raise PaymentUriError(f"{bad.group()!r} cannot appear in a URI: percent-encode it (a space is %20)")
    # Verify the scheme.
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() != SCHEME:
        raise PaymentUriError(f"not a payment URI: it must start with {SCHEME}:, got {text[:20]!r}")
    # Verify the key and its checksum.
    key_part, _, query = rest.partition("?")
    if not _KEY_PART.fullmatch(key_part):
        raise PaymentUriError(
            f"the recipient must be a Base58 key, optionally followed by :checksum, got {key_part[:60]!r}"
        )
    try:
        recipient = parse_pubkey(key_part)
    except InvalidKey as exc:
        raise PaymentUriError(f"the recipient's key is wrong: {exc}") from exc
    # Verify the parameters: each at most once, none required that June does not know.
    values = _read_query(query)
    for name in values:
        if name.startswith("req-"):
            raise PaymentUriError(f"the request requires {name!r}, which this wallet does not understand")
    return PaymentRequest(
        recipient=recipient,
        amount_cents=_parse_cents(values["amount"]) if "amount" in values else None,
        amount_ud=_parse_ud(values["ud"]) if "ud" in values else None,
        comment=values.get("comment", ""),
        currency=values.get("currency"),
    )


def _read_query(query: str) -> dict[str, str]:
    """Parameter names (lower case) and their decoded values; empty pieces (`a=1&&b=2`) are skipped."""
    values: dict[str, str] = {}
    for piece in query.split("&"):
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition("=")
        name = _decode(raw_name, "a parameter name").lower()
        if name in values:
            raise PaymentUriError(f"the parameter {name!r} is given twice")
        values[name] = _decode(raw_value, f"the parameter {name!r}")
    return values


def _decode(raw: str, what: str) -> str:
    """Strict percent-decoding: every `%` starts two hex digits, the bytes are UTF-8; `+` stays `+`."""
    if _BAD_ESCAPE.search(raw):
        raise PaymentUriError(f"{what}: a % must be followed by two hexadecimal digits, got {raw[:60]!r}")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PaymentUriError(f"{what}: the percent-encoded bytes are not UTF-8") from exc


def _parse_cents(text: str) -> int:
    """`12`, `12.5`, `12.50` → 1250: units with at most two decimals, read exactly (no float)."""
    if not _AMOUNT.fullmatch(text):
        raise PaymentUriError(f"amount: {text[:40]!r} is not an amount in units with at most two decimals")
    units, _, decimals = text.partition(".")
    cents = int(units) * 100 + int(decimals.ljust(2, "0") or 0)
    _check_cents(cents)
    return cents


def _parse_ud(text: str) -> Decimal:
    """`1.5` → Decimal('1.5'): an amount in UD, a plain positive decimal."""
    if len(text) > MAX_UD_TEXT_LENGTH or not _UD_AMOUNT.fullmatch(text):
        raise PaymentUriError(f"ud: {text[:40]!r} is not an amount in UD (write e.g. 1.5)")
    value = Decimal(text)  # the pattern admits only plain decimals, which Decimal always reads
    _check_ud(value)
    return value


def _ud_text(value: Decimal) -> str:
    """A Decimal in plain notation, never `1E+2`."""
    return format(value, "f")


def _check_cents(cents: int) -> None:
    if type(cents) is not int:
        raise PaymentUriError(f"amount: cents are an integer, got {type(cents).__name__}")
    if cents <= 0:
        raise PaymentUriError("amount: must be more than 0")
    if cents > MAX_INT:
        raise PaymentUriError("amount: larger than any account can hold")


def _check_ud(value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise PaymentUriError("ud: must be a finite decimal number")
    if value <= 0:
        raise PaymentUriError("ud: must be more than 0")
    if not -MAX_UD_TEXT_LENGTH < value.adjusted() < MAX_UD_TEXT_LENGTH:
        raise PaymentUriError(f"ud: {value} is out of range")
    text = _ud_text(value)
    if len(text) > MAX_UD_TEXT_LENGTH or not _UD_AMOUNT.fullmatch(text):
        raise PaymentUriError(f"ud: {text[:40]!r} has more than {MAX_UD_TEXT_LENGTH} characters")


def _check_comment(comment: str) -> None:
    """The rules a transaction's comment follows (protocol/documents/transaction.py)."""
    if not isinstance(comment, str):
        raise PaymentUriError("comment: must be text")
    if len(comment) > MAX_COMMENT_LENGTH:
        raise PaymentUriError(f"comment: {len(comment)} characters, at most {MAX_COMMENT_LENGTH}")
    if not COMMENT_PATTERN.fullmatch(comment):
        raise PaymentUriError("comment: control characters (line breaks, tabs) are not allowed")


def _check_currency(currency: str) -> None:
    if not isinstance(currency, str) or not CURRENCY_PATTERN.fullmatch(currency):
        raise PaymentUriError(
            f"currency: {str(currency)[:60]!r} is not a currency name (2 to 50 letters, digits, -, _, spaces)"
        )


__all__ = [
    "MAX_URI_LENGTH",
    "SCHEME",
    "PaymentRequest",
    "PaymentUriError",
    "format_payment_uri",
    "parse_payment_uri",
]
