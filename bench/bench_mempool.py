"""Mempool transaction intake against the single-core Ed25519 verification rate, in the same run.

Each admission decodes nothing (the documents are built here) but checks the transaction with the
block rules on the head plus the pool (signature included) and persists it. Two paths: relayed by
gossip (written without a disk sync) and submitted by a client (synced before the answer).
Target (design.md §5): intake ≥ 50 % of the single-core signature verification rate.
"""

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _chain import START, BenchChain
from _common import raw_verifications_per_second

from node.mempool import Mempool
from node.store import LevelStore
from protocol.params import dev_parameters
from protocol.rules.block import validate_block

MEMBERS = 2000
#: Founders in block 0 (it must stay under the 1 MB block cap); the others join after.
FOUNDERS = 500


def intake(chain: BenchChain, payments: list, durable: bool) -> float:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="june-bench-mempool-") as scratch:
        store = LevelStore.open(Path(scratch) / "db")
        for block in chain.blocks:
            store.apply_block(block, validate_block(store, block), fork_window=100)
        pool = Mempool(store)
        start = time.perf_counter()
        for tx in payments:
            pool.add(tx, durable=durable)
        elapsed = time.perf_counter() - start
        assert len(pool) == len(payments)
        store.close()
    return len(payments) / elapsed


def main() -> None:
    chain = BenchChain(FOUNDERS, params=replace(dev_parameters(START), sig_qty=1), certifiers=1)
    chain.grow_to(MEMBERS)
    chain.advance_to_dividend()
    payments = [chain.payment(i, (i + 1) % MEMBERS) for i in range(MEMBERS)]
    raw = raw_verifications_per_second()
    relayed = intake(chain, payments, durable=False)
    submitted = intake(chain, payments, durable=True)
    print(f"raw Ed25519 verification, one core: {raw:,.0f}/s")
    print(
        f"mempool intake, relayed (no disk sync): {relayed:,.0f} tx/s = {relayed / raw:.0%} (target ≥ 50 %)"
    )
    print(f"mempool intake, submitted (synced to disk each): {submitted:,.0f} tx/s = {submitted / raw:.0%}")


if __name__ == "__main__":
    main()
