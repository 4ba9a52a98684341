"""The workers' signature check agrees with the protocol's `check_block_signatures`."""

from dataclasses import replace
from typing import Any

import cbor2
import pytest

from node.audit.signatures import BlockSignatures, SignatureChecker, check_block
from protocol.documents import Block
from protocol.errors import RuleViolation
from protocol.keys import Keypair
from protocol.rules.local import check_block_signatures
from tests.node.audit.helpers import fork
from tests.protocol.chain_builder import Chain


def _protocol_code(block: Block) -> str | None:
    try:
        check_block_signatures(block)
    except RuleViolation as violation:
        return violation.code
    return None


def _signature_count(block: Block) -> int:
    documents = (
        len(block.identities)
        + len(block.joiners)
        + len(block.actives)
        + len(block.leavers)
        + len(block.revocations)
        + len(block.certifications)
    )
    return 1 + documents + sum(len(tx.issuers) for tx in block.transactions)


def test_every_signature_of_an_honest_chain_verifies(history: Chain) -> None:
    for block in history.blocks:
        result = check_block(block.to_bytes())
        assert result == BlockSignatures(_signature_count(block), (), block.hash)


def _forged(documents: tuple[Any, ...], index: int, signer: Keypair) -> tuple[Any, ...]:
    """`documents` with the one at `index` signed by `signer` instead of its issuer."""
    document = documents[index]
    return (
        *documents[:index],
        replace(document, signature=signer.sign(document.signing_message())),
        *documents[index + 1 :],
    )


def _tampered(history: Chain) -> list[Block]:
    """One block per kind of document, each with one signature made by the wrong key."""
    chain = fork(history)
    mallory = chain.keys["mallory"]
    genesis = history.blocks[0]
    payment = next(b for b in history.blocks if b.transactions)
    renewal = next(b for b in history.blocks if b.actives)
    tx = payment.transactions[0]
    return [
        replace(genesis, identities=_forged(genesis.identities, 2, mallory)),
        replace(genesis, joiners=_forged(genesis.joiners, 3, mallory)),
        replace(genesis, certifications=_forged(genesis.certifications, 5, mallory)),
        replace(renewal, actives=_forged(renewal.actives, 0, mallory)),
        replace(renewal, revocations=_forged((chain.revocation("eve"),), 0, mallory)),
        replace(payment, transactions=(replace(tx, signatures=()),)),
        replace(payment, transactions=(replace(tx, signatures=(mallory.sign(tx.signing_message()),)),)),
        replace(payment, signature=mallory.sign(payment.signing_message())),
        replace(payment, nonce=payment.nonce + 1),  # the block's signature covers its nonce
    ]


def test_a_bad_signature_gets_the_protocols_code_and_position(history: Chain) -> None:
    for block in _tampered(history):
        expected = _protocol_code(block)
        assert expected is not None
        result = check_block(block.to_bytes())
        assert result.readable
        assert [f.code for f in result.failures][:1] == [expected]


def test_bytes_that_are_no_block_are_unreadable_not_a_crash() -> None:
    shaped = cbor2.dumps([0] * 26 + ["not a nonce", b""])
    deep = b"\x98\x1c" + b"\x00" * 18 + b"\x81" * 5000 + b"\x00" * 10
    for raw in (b"", b"\xff", b"\x83\x01\x02\x03", b"\x98\x1c" + b"\x00" * 28, shaped, deep):
        assert not check_block(raw).readable


@pytest.mark.parametrize("workers", [0, 2])
def test_the_pool_returns_batches_in_order(history: Chain, workers: int) -> None:
    raws = [b.to_bytes() for b in history.blocks]
    raws[3] = replace(history.blocks[3], nonce=history.blocks[3].nonce + 1).to_bytes()
    with SignatureChecker(workers) as checker:
        futures = [checker.submit(raws[i : i + 4]) for i in range(0, len(raws), 4)]
        results = [r for future in futures for r in future.result()]
    assert [bool(r.failures) for r in results] == [i == 3 for i in range(len(raws))]
