"""The proof-of-work search in worker processes: finds, shares, throttles, and stops on demand."""

from dataclasses import replace

from node.prover import ProofSearch
from protocol.documents.block import NO_SIGNATURE
from protocol.rules.production import is_hash_valid
from tests.protocol.chain_builder import Chain


def test_finds_a_nonce_for_an_unsigned_block_with_two_workers() -> None:
    block = replace(Chain(founders=4).block(), nonce=0, signature=NO_SIGNATURE)  # as the forger has it
    search = ProofSearch(block, 32, workers=2)
    nonce = search.result(timeout=60)
    assert nonce is not None
    assert is_hash_valid(replace(block, nonce=nonce).hash, 32)
    assert not search.running


def test_a_throttled_worker_still_finds_one() -> None:
    block = Chain(founders=4).block()
    nonce = ProofSearch(block, 20, cpu_share=0.3).result(timeout=60)
    assert nonce is not None and is_hash_valid(replace(block, nonce=nonce).hash, 20)


def test_cancel_stops_a_hopeless_search() -> None:
    block = Chain(founders=4).block()
    search = ProofSearch(block, 16 * 30, workers=2)
    assert search.result(timeout=0.5) is None
    search.cancel()
    assert not search.running
