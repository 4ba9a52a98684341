"""June's signed documents: immutable data classes with canonical CBOR encoding and signatures."""

from protocol.documents.base import GENESIS_REF, BlockRef, Kind
from protocol.documents.block import Block
from protocol.documents.certification import Certification
from protocol.documents.identity import Identity
from protocol.documents.membership import Membership, MembershipType
from protocol.documents.pending import PendingDocument, decode_pending
from protocol.documents.revocation import Revocation
from protocol.documents.transaction import (
    DividendSource,
    Input,
    Output,
    SigProof,
    Transaction,
    TransactionSource,
    XhxProof,
)

__all__ = [
    "GENESIS_REF",
    "Block",
    "BlockRef",
    "Certification",
    "DividendSource",
    "Identity",
    "Input",
    "Kind",
    "Membership",
    "MembershipType",
    "Output",
    "PendingDocument",
    "Revocation",
    "SigProof",
    "Transaction",
    "TransactionSource",
    "XhxProof",
    "decode_pending",
]
