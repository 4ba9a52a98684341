"""Decoding a document of any pending kind, as the mempool and the client API receive them."""

from typing import Any

from protocol.documents.base import Kind
from protocol.documents.certification import Certification
from protocol.documents.identity import Identity
from protocol.documents.membership import Membership
from protocol.documents.revocation import Revocation
from protocol.documents.transaction import Transaction
from protocol.encoding import decode
from protocol.errors import SchemaError

PendingDocument = Identity | Certification | Membership | Revocation | Transaction

_BY_KIND: dict[int, Any] = {
    Kind.IDENTITY: Identity,
    Kind.CERTIFICATION: Certification,
    Kind.MEMBERSHIP: Membership,
    Kind.REVOCATION: Revocation,
    Kind.TRANSACTION: Transaction,
}
MAX_PENDING_SIZE = max(kind.MAX_SIZE for kind in _BY_KIND.values())


def decode_pending(data: bytes, *, currency: str | None = None) -> PendingDocument:
    """Decode an identity, certification, membership, revocation or transaction by its kind field."""
    value = decode(data, max_size=MAX_PENDING_SIZE)
    if not isinstance(value, list) or not value or type(value[0]) is not int or value[0] not in _BY_KIND:
        head = value[0] if isinstance(value, list) and value else value
        raise SchemaError(
            f"not a pending document: kind {head!r} is not one of identity, certification, "
            "membership, revocation, transaction"
        )
    document_class = _BY_KIND[value[0]]
    if len(data) > document_class.MAX_SIZE:
        raise SchemaError(f"{len(data)} bytes, the cap for this kind is {document_class.MAX_SIZE}")
    document: PendingDocument = document_class.from_item(value, currency=currency)
    return document
