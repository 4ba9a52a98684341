"""Signed documents: round trips, signatures, and rejection of tampering, wrong currency and wrong kind."""

import contextlib
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.documents import (
    Block,
    Certification,
    Identity,
    Membership,
    Revocation,
    Transaction,
    decode_pending,
)
from protocol.documents.base import WrongCurrency
from protocol.encoding import encode
from protocol.errors import DecodeError, InvalidSignature, SchemaError, TooLarge
from tests.conftest import KEYS
from tests.protocol.documents_factory import (
    CURRENCY,
    genesis_block,
    hashes,
    refs,
    sample_block,
    sample_documents,
    transactions,
    uids,
)

CLASSES: dict[str, Any] = {
    "identity": Identity,
    "certification": Certification,
    "membership": Membership,
    "revocation": Revocation,
    "transaction": Transaction,
}
KINDS = sorted(CLASSES)


def all_samples() -> list[tuple[str, Any]]:
    docs = sample_documents()
    return [*((k, docs[k]) for k in KINDS), ("block", sample_block(docs)), ("genesis block", genesis_block())]


@pytest.mark.parametrize(("kind", "document"), all_samples(), ids=lambda v: v if isinstance(v, str) else "")
def test_round_trip_and_signature(kind: str, document: Any) -> None:
    data = document.to_bytes()
    decoded = type(document).from_bytes(data, currency=CURRENCY)
    assert decoded == document
    assert decoded.to_bytes() == data
    decoded.verify()
    assert decoded.hash == document.hash


@pytest.mark.parametrize(("kind", "document"), all_samples(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_changed_byte_is_rejected(kind: str, document: Any) -> None:
    """Change each byte in turn: decoding fails, or the signature no longer verifies."""
    data = document.to_bytes()
    for position in range(len(data)):
        for flip in (0x01, 0x80):
            tampered = bytearray(data)
            tampered[position] ^= flip
            try:
                decoded = type(document).from_bytes(bytes(tampered))
            except DecodeError:
                continue
            with pytest.raises(InvalidSignature):
                decoded.verify()


@pytest.mark.parametrize(("kind", "document"), all_samples(), ids=lambda v: v if isinstance(v, str) else "")
def test_wrong_currency_is_rejected(kind: str, document: Any) -> None:
    with pytest.raises(WrongCurrency, match="expected 'g1'"):
        type(document).from_bytes(document.to_bytes(), currency="g1")
    moved = replace(document, currency="g1")
    try:
        decoded = type(document).from_bytes(moved.to_bytes())
    except WrongCurrency:  # a block whose documents still name the old currency
        assert kind.endswith("block")
        return
    with pytest.raises(InvalidSignature):
        decoded.verify()


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_kind_is_rejected(kind: str) -> None:
    docs = sample_documents()
    data = docs[kind].to_bytes()
    for other in KINDS:
        if other != kind:
            expected = f"expected a document of kind {other}, got kind {kind}|the cap is"
            with pytest.raises((SchemaError, TooLarge), match=expected):
                CLASSES[other].from_bytes(data)
    with pytest.raises(SchemaError, match=f"expected a document of kind block, got kind {kind}"):
        Block.from_bytes(data)
    assert decode_pending(data, currency=CURRENCY) == docs[kind]


def test_block_is_not_a_pending_document() -> None:
    with pytest.raises(SchemaError, match="not a pending document"):
        decode_pending(sample_block().to_bytes())


@pytest.mark.parametrize("kind", KINDS)
def test_missing_and_extra_fields_are_rejected(kind: str) -> None:
    item = sample_documents()[kind].to_item()
    with pytest.raises(SchemaError, match="missing fields"):
        CLASSES[kind].from_bytes(encode(item[:-1]))
    with pytest.raises(SchemaError, match="unknown extra fields"):
        CLASSES[kind].from_bytes(encode([*item, 0]))


def test_wrong_types_and_ranges_are_rejected_with_the_field_name() -> None:
    item = sample_documents()["identity"].to_item()
    cases = [
        (3, b"short", "identity.issuer: expected 32 bytes"),
        (4, "no spaces allowed", "identity.uid"),
        (4, 42, "identity.uid: expected a text string"),
        (5, [-1, bytes(32)], "identity.block.number: -1 is out of range"),
        (5, [2**63, bytes(32)], "identity.block.number"),
        (6, bytes(63), "identity.signature: expected 64 bytes"),
        (1, 2, "identity.version: expected 1"),
    ]
    for index, value, message in cases:
        bad = list(item)
        bad[index] = value
        with pytest.raises(SchemaError, match=message):
            Identity.from_bytes(encode(bad))


def test_transaction_fields_are_checked() -> None:
    tx = sample_documents()["transaction"]
    item = tx.to_item()
    bad_output = list(item)
    bad_output[8] = [[10, 0, "SIG(nope)"]]
    with pytest.raises(SchemaError, match=r"outputs\[0\].condition"):
        Transaction.from_bytes(encode(bad_output))
    zero_amount = list(item)
    zero_amount[6] = [[0, 0, 0, bytes(32), 1]]
    with pytest.raises(SchemaError, match=r"inputs\[0\].amount: 0 is out of range"):
        Transaction.from_bytes(encode(zero_amount))
    control = list(item)
    control[9] = "line\nbreak"
    with pytest.raises(SchemaError, match="comment"):
        Transaction.from_bytes(encode(control))


def test_transaction_needs_every_issuer_signature_in_order() -> None:
    tx = sample_documents()["transaction"]
    with pytest.raises(InvalidSignature, match="2 issuers but 1 signatures"):
        replace(tx, signatures=tx.signatures[:1]).verify()
    with pytest.raises(InvalidSignature, match="issuer 0"):
        replace(tx, signatures=tx.signatures[::-1]).verify()
    with pytest.raises(ValueError, match="issuers' order"):
        tx.signed_by(KEYS[2], KEYS[0])


def test_transaction_compact_line_count_matches_rules() -> None:
    tx = sample_documents()["transaction"]
    # 2 header lines, 2 issuers, 2 signatures, 2 inputs, 2 unlocks, 2 outputs, 1 comment
    assert tx.compact_line_count() == 13
    single = replace(tx, issuers=tx.issuers[:1], comment="")
    assert single.compact_line_count() == 2 + 2 + 2 * len(tx.inputs) + len(tx.outputs)


def test_block_nested_documents_must_share_its_currency() -> None:
    docs = sample_documents()
    foreign = Identity.create(KEYS[1], "g1", "bob", docs["identity"].block)
    block = replace(sample_block(docs), identities=(foreign,))
    with pytest.raises(WrongCurrency, match="currency is 'g1'"):
        Block.from_bytes(block.to_bytes())


def test_block_hash_covers_nonce_and_signature_covers_hash() -> None:
    block = sample_block()
    other_nonce = replace(block, nonce=block.nonce + 1)
    assert other_nonce.inner_hash == block.inner_hash
    assert other_nonce.hash != block.hash
    with pytest.raises(InvalidSignature):
        other_nonce.verify()
    with pytest.raises(ValueError, match="signed by its issuer"):
        block.signed(KEYS[3], 0)


def test_oversized_input_is_rejected_before_decoding() -> None:
    with pytest.raises(TooLarge):
        Identity.from_bytes(b"\x00" * (Identity.MAX_SIZE + 1))
    with pytest.raises(TooLarge):
        decode_pending(b"\x00" * 70_000)


@given(transactions())
@settings(max_examples=60, deadline=None)
def test_random_transactions_round_trip(tx: Transaction) -> None:
    decoded = Transaction.from_bytes(tx.to_bytes())
    assert decoded == tx
    decoded.verify()


@given(uid=uids, ref=refs, target=hashes, key=st.sampled_from(KEYS))
@settings(max_examples=60, deadline=None)
def test_random_wot_documents_round_trip(uid: str, ref: Any, target: Any, key: Any) -> None:
    for document in (
        Identity.create(key, CURRENCY, uid, ref),
        Certification.create(key, CURRENCY, KEYS[0].public_key, target, ref),
        Revocation.create(key, CURRENCY, target),
    ):
        assert decode_pending(document.to_bytes()) == document
        document.verify()


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_garbage_never_escapes_as_an_untyped_error(data: bytes) -> None:
    for decoder in (decode_pending, Block.from_bytes):
        with contextlib.suppress(DecodeError):
            decoder(data)
