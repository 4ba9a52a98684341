"""Auditor replay rate (signatures re-verified per second, every rule included) against the raw
Ed25519 verification rate of all cores, measured in the same run.

The replay is meant to be signature-bound: design.md §5 asks for at least 70 % of the raw rate of
all cores. Default: 500 members, 5,000 blocks, 10,000 transactions (well under a minute once the
chain is generated). `--full`: the design.md §5 scale, 10,000 members, 100,000 blocks and 200,000
transactions (the first run generates the chain, which takes a while; it is kept in the temporary
directory for later runs).
"""

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from _chain import CURRENCY, START, BenchChain
from _common import raw_verifications_per_second

from node.audit.replay import BATCH_BLOCKS, audit
from node.audit.signatures import default_workers, usable_cores
from node.audit.source import ChainFileSource
from node.chainfile import write_chain
from node.gcpolicy import ReplayGc
from protocol.conditions import sig_condition
from protocol.crypto import Hash, verify
from protocol.documents import Block, DividendSource, Input, Output, SigProof, Transaction, TransactionSource
from protocol.keys import Keypair
from protocol.params import dev_parameters
from protocol.rules.block import compute_block_delta
from protocol.rules.production import FrameCache
from protocol.state import MemoryState

#: Bump when the generated chain changes, so a cached file of an older shape is not reused.
FORMAT = 2
PAYMENT = 10  # cents per payment: a UD of 10.00 pays for a hundred


class Wallets:
    """One coin per member (its latest source), spent whole: the payment, and the change back."""

    def __init__(self, chain: BenchChain) -> None:
        self.chain = chain
        number = next(b.number for b in chain.blocks if b.dividend)
        dividend = chain.blocks[number].dividend
        assert dividend is not None
        self.coins: list[tuple[DividendSource | TransactionSource, int]] = [
            (DividendSource(key.public_key, number), dividend) for key in chain.keys
        ]
        self.turn = 0

    def pay(self, payee_offset: int) -> Transaction:
        members = len(self.chain.keys)
        payer = self.turn % members
        self.turn += 1
        payee = (payer + payee_offset) % members
        source, amount = self.coins[payer]
        key = self.chain.keys[payer]
        tx = Transaction(
            currency=CURRENCY,
            block=self.chain.ref(),
            locktime=0,
            issuers=(key.public_key,),
            inputs=(Input(amount, 0, source),),
            unlocks=((SigProof(0),),),
            outputs=(
                Output(PAYMENT, 0, sig_condition(self.chain.keys[payee].public_key)),
                Output(amount - PAYMENT, 0, sig_condition(key.public_key)),
            ),
        ).signed_by(key)
        self.coins[payer] = (TransactionSource(Hash(tx.hash), 1), amount - PAYMENT)
        return tx


def generate(path: Path, members: int, blocks: int, transactions: int) -> None:
    """A bench currency (one certification to join, so a large web of trust builds in a few
    blocks), then blocks 10 s apart carrying the payments evenly."""
    start = time.perf_counter()
    founders = min(members, 1500)
    chain = BenchChain(members=founders, params=replace(dev_parameters(START), sig_qty=1), certifiers=1)
    chain.grow_to(members)
    chain.advance_to_dividend()
    wallets = Wallets(chain)
    remaining = blocks - len(chain.blocks)
    paid = 0
    while len(chain.blocks) < blocks:
        head = chain.state.head()
        assert head is not None
        done = blocks - len(chain.blocks)
        due = transactions - (transactions * (done - 1)) // remaining
        pending = [wallets.pay(1 + paid % 97) for _ in range(due - paid)]
        paid = due
        block = chain.forge(list(pending), head.time + 10)
        assert len(block.transactions) == len(pending), "every payment must be written"
        chain.apply(block)
        if len(chain.blocks) % 5000 == 0:
            print(f"   … {len(chain.blocks):,} blocks", flush=True)
    write_chain(path, (b.to_bytes() for b in chain.blocks))
    print(f"generated in {time.perf_counter() - start:.0f} s")


def _verify(count: int) -> None:
    key = Keypair(bytes(range(32)))
    message = b"june benchmark message " * 8
    signature = key.sign(message)
    for _ in range(count):
        verify(key.public_key, message, signature)


def raw_all_cores(cores: int, count: int = 5000) -> float:
    """Ed25519 verifications per second with every core verifying at once (one process each),
    by the wall clock: what a perfectly parallel, signature-bound replay would reach."""
    with ProcessPoolExecutor(max_workers=cores) as pool:
        list(pool.map(_verify, [10] * cores))  # the workers are started before the clock runs
        start = time.perf_counter()
        list(pool.map(_verify, [count] * cores))
        return count * cores / (time.perf_counter() - start)


def rules_ceiling(path: Path) -> tuple[float, int]:
    """Seconds and blocks of a serial replay without any signature check: decoding, the rules and
    the state alone, the part of the audit that one process does in order."""
    state = MemoryState()
    frames = FrameCache()
    count = 0
    start = time.perf_counter()
    with ReplayGc() as collector:
        for raw in ChainFileSource(path).blocks():
            block = Block.from_bytes(raw)
            state.apply(compute_block_delta(state, block, signatures=False, frames=frames), block.hash)
            count += 1
            if count % BATCH_BLOCKS == 0:
                collector.checkpoint()
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--full", action="store_true", help="10,000 members, 100,000 blocks, 200,000 transactions"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="signature workers [default: one per core but one]"
    )
    arguments = parser.parse_args()
    members, blocks, transactions = (10_000, 100_000, 200_000) if arguments.full else (500, 5_000, 10_000)
    path = Path(tempfile.gettempdir()) / f"june-bench-audit-v{FORMAT}-{members}-{blocks}-{transactions}.chain"
    if not path.exists():
        print(f"generating {members:,} members, {blocks:,} blocks, {transactions:,} transactions → {path}")
        generate(path, members, blocks, transactions)
    cores = usable_cores()
    workers = default_workers() if arguments.workers is None else arguments.workers
    single = raw_verifications_per_second()
    everything = raw_all_cores(cores)
    print(f"raw Ed25519 verifications: {single:,.0f}/s on one core, {everything:,.0f}/s on all {cores} cores")
    report = audit(ChainFileSource(path), workers=workers)
    ceiling_seconds, ceiling_blocks = rules_ceiling(path)
    assert report.valid, report.violations[:1] or report.source_error
    rate = report.signatures / report.elapsed
    print(
        f"audit of {report.blocks_read:,} blocks ({report.members:,} members, "
        f"{report.totals.transactions:,} transactions, {report.signatures:,} signatures) "
        f"in {report.elapsed:.1f} s with {workers} worker{'s' if workers != 1 else ''}: "
        f"{report.blocks_read / report.elapsed:,.0f} blocks/s, {rate:,.0f} signatures/s"
    )
    print(f"   = {rate / everything:.0%} of the raw verification rate of all cores (target ≥ 70 %)")
    ceiling = report.signatures / ceiling_seconds
    print(
        f"rules alone (serial replay, no signature): {ceiling_blocks / ceiling_seconds:,.0f} blocks/s, "
        f"so at most {ceiling:,.0f} signatures/s = {ceiling / everything:.0%} of the raw rate of all cores; "
        f"the audit reaches {rate / ceiling:.0%} of that bound"
    )


if __name__ == "__main__":
    main()
