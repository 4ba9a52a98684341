"""Importing real blocks after junk fork candidates were offered, against a clean import (same run).

The reference: 300 real blocks imported into a fresh node (the chain manager over LevelDB, as
`juned import` does: every rule, every signature, synced every 100 blocks). Then another fresh node
is offered 100 junk fork-candidate attempts first: blocks self-signed by throwaway non-member keys
on random parents, member-signed blocks on random parents, and junk on real parents (a non-member
issuer, a member's proof of work short of her personalised difficulty, a wrong header field, a bad
signature); then it imports the same 300 blocks. Both nodes first take the same 10 blocks, so that
the junk has real parents other than the head.

Printed: both import rates and their ratio (target: the junk costs at most 20 %), what became of
the junk (outcomes), and the fork candidates left on disk (target 0). Before the candidates were
checked on arrival, 73 such blocks made the next 300 take 133 times longer (340 s instead of 2.6 s).
"""

import argparse
import os
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from _chain import BenchChain
from _common import ROOT  # noqa: F401  (puts the repository on sys.path)

from node.chain import ChainManager
from node.commands.data import SYNC_EVERY
from node.store import LevelStore
from protocol.crypto import Hash, Signature
from protocol.documents import Block
from protocol.forge import build_block, prove, required_difficulty
from protocol.keys import Keypair
from protocol.rules.production import is_hash_valid

SETUP = 10  # blocks both nodes take before the measure (the junk's real parents)


def throwaway() -> Keypair:
    return Keypair(os.urandom(32))


def moved(block: Block, keypair: Keypair, parent: bytes) -> Block:
    """`block` on `parent`, issued and signed by `keypair`."""
    body = replace(block, issuer=keypair.public_key, previous_hash=Hash(parent))
    return body.signed(keypair, body.nonce)


def generate(imported: int, junk: int) -> tuple[list[Block], list[Block]]:
    """The real chain (`SETUP` + `imported` blocks after block 0) and `junk` junk blocks."""
    chain = BenchChain(members=50)
    on_real_parents: list[Block] = []
    while len(chain.blocks) <= SETUP + imported:
        head = chain.state.head()
        assert head is not None
        if head.number < SETUP - 1:  # junk on this block, which will not be the node's head
            on_real_parents += junk_on(chain, head.time + 10)
        chain.apply(chain.forge([], head.time + 10))
    sample = chain.blocks[SETUP + 1]
    offered: list[Block] = []
    for index in range(junk):
        kind = index % 4
        if kind == 0:  # nobody, nowhere
            offered.append(moved(sample, throwaway(), os.urandom(32)))
        elif kind == 1:  # a member, on a parent nobody knows
            offered.append(moved(sample, chain.keys[index % 20], os.urandom(32)))
        else:
            offered.append(on_real_parents[index % len(on_real_parents)])
    return chain.blocks, offered


def junk_on(chain: BenchChain, time_: int) -> list[Block]:
    """Blocks on the head of `chain` that could never become the chain."""
    head = chain.state.head()
    assert head is not None
    found = []
    last_issuer = chain.keys[chain.turn]  # forged the head: she has a handicap for the next block
    draft = build_block(chain.state, [], last_issuer.public_key, time_)
    difficulty = required_difficulty(chain.state, draft)
    assert difficulty > 0
    short = [n for n in range(200) if not is_hash_valid(replace(draft, nonce=n).hash, difficulty)]
    found += [draft.signed(last_issuer, n) for n in short[:4]]  # proof of work short of hers
    for offset in range(4):
        other = chain.keys[(chain.turn + 5 + offset) % 20]
        sibling = build_block(chain.state, [], other.public_key, time_ + offset)
        nonce = prove(sibling, required_difficulty(chain.state, sibling))
        assert nonce is not None
        signed = sibling.signed(other, nonce)
        found.append(moved(signed, throwaway(), bytes(signed.previous_hash or b"")))  # a non-member
        found.append(replace(signed, signature=Signature(os.urandom(64))))  # a bad signature
        wrong = replace(sibling, issuers_count=sibling.issuers_count + 1)
        found.append(wrong.signed(other, 0))  # a wrong header field
    return found


def import_blocks(directory: Path, blocks: list[Block], junk: list[Block]) -> tuple[float, Counter[str], int]:
    """Seconds to import `blocks[SETUP + 1:]` into a fresh node after the setup blocks and the
    `junk`; what became of the junk; the candidates left on disk."""
    store = LevelStore.open(directory / "db")
    manager = ChainManager(store, genesis_hash=blocks[0].hash)
    for block in blocks[: SETUP + 1]:
        manager.add_block(block)
    outcomes = Counter(manager.add_block(block, source="junk-peer").outcome.value for block in junk)
    measured = blocks[SETUP + 1 :]
    start = time.perf_counter()
    for index, block in enumerate(measured, start=1):
        result = manager.add_block(block, durable=index % SYNC_EVERY == 0 or index == len(measured))
        assert result.outcome.value == "applied", result
    elapsed = time.perf_counter() - start
    left = len(store.fork_candidates())
    store.close()
    return elapsed, outcomes, left


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=300)
    parser.add_argument("--junk", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many imports each")
    arguments = parser.parse_args()
    blocks, junk = generate(arguments.blocks, arguments.junk)
    clean = dirty = float("inf")
    outcomes: Counter[str] = Counter()
    left = 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(arguments.repeat):
            seconds, _none, _left = import_blocks(Path(tmp) / f"clean{run}", blocks, [])
            clean = min(clean, seconds)
            seconds, outcomes, left = import_blocks(Path(tmp) / f"junk{run}", blocks, junk)
            dirty = min(dirty, seconds)
    count = arguments.blocks
    print(f"{count} real blocks imported (chain manager over LevelDB), best of {arguments.repeat}")
    print(f"   into a fresh node (reference): {count / clean:,.0f} blocks/s")
    print(f"   after {len(junk)} junk fork candidates: {count / dirty:,.0f} blocks/s")
    print(f"   ratio: {clean / dirty:.0%} of the reference (target ≥ 80 %)")
    print(f"   the junk: {', '.join(f'{n} {outcome}' for outcome, n in sorted(outcomes.items()))}")
    print(f"   fork candidates left on disk: {left} (target 0)")


if __name__ == "__main__":
    main()
