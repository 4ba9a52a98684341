"""Chains for the auditor's tests: an honest history, and blocks broken in one rule only."""

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

from node.audit.replay import AuditReport, audit
from node.audit.source import ChainFileSource
from node.chainfile import write_chain
from protocol.documents import Block
from protocol.forge import prove, required_difficulty
from protocol.rules.block import compute_block_delta
from protocol.state import MemoryState
from tests.protocol.chain_builder import Chain

DAY = 86400


def join(chain: Chain, name: str, certifiers: tuple[str, ...] = ("alice", "bob", "carol")) -> None:
    """Write `name`'s identity, joiner and certifications, once the certifiers may certify again."""
    chain.advance(chain.params.sig_period + 1)
    identity = chain.identity(name)
    chain.write(
        identities=[identity],
        joiners=[chain.membership(name)],
        certifications=[chain.cert(c, name) for c in certifiers],
    )


def honest_history() -> Chain:
    """Four founders, UDs, two payments, eve joining, renewals: every kind of document but revocations."""
    chain = Chain(founders=4)
    chain.advance(2 * DAY)
    chain.write(transactions=[chain.pay("alice", {"bob": 150})])
    join(chain, "eve")
    chain.advance(DAY)
    chain.write(transactions=[chain.pay("bob", {"carol": 25, "eve": 30})])
    chain.write(actives=[chain.membership("carol")])
    chain.advance(DAY)
    return chain


def fork(chain: Chain) -> Chain:
    """An independent copy to write a tampered block on (the state rebuilt from the deltas)."""
    copied = copy.copy(chain)
    copied.blocks, copied.deltas, copied.identities = (
        list(chain.blocks),
        list(chain.deltas),
        dict(chain.identities),
    )
    copied.state = MemoryState()
    for block, delta in zip(chain.blocks, chain.deltas, strict=True):
        copied.state.apply(delta, block.hash)
    return copied


def resigned(chain: Chain, block: Block, issuer: str = "alice", **changes: Any) -> Block:
    """`block` with `changes`, proven and signed again, so that only the changed rule can fail."""
    changed = replace(block, **changes)
    nonce = prove(changed, required_difficulty(chain.state, changed))
    assert nonce is not None
    return changed.signed(chain.keys[issuer], nonce)


def force(chain: Chain, block: Block) -> None:
    """Put `block` on the chain with the effect the rules give it, whatever its digest or signatures
    say (how a broken forger's chain goes on after a bad block)."""
    delta = compute_block_delta(chain.state, block, signatures=False)
    chain.state.apply(delta, block.hash)
    chain.blocks.append(block)
    chain.deltas.append(delta)


def write(path: Path, blocks: list[Block] | list[bytes]) -> Path:
    write_chain(path, (b if isinstance(b, bytes) else b.to_bytes() for b in blocks))
    return path


def audit_blocks(
    tmp_path: Path, blocks: list[Block] | list[bytes], *, workers: int = 0, keep_going: bool = False
) -> AuditReport:
    path = write(tmp_path / "audited.chain", blocks)
    return audit(ChainFileSource(path), workers=workers, keep_going=keep_going)
