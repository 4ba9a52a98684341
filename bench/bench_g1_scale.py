"""Issue 17's proof: a Ğ1-shaped chain, and what its UD blocks, renewals, rich accounts, audit and
sync cost, each against a reference measured in the same run.

The chain (bench/_g1_chain.py): the real Ğ1 web of trust (September 2023: 8,173 members and
77,151 certifications between members, ~90,900 with those from or to former members; the first
8,000 members hold ~76,000, plus ~900 added for the few whose real certifiers had left), its
members joining one after the other at the pace that brings it to full size over the run, with
Ğ1's parameters and one Ğ1 day mapped to 5 blocks of 10 s (dt = 50 s; every duration keeps its
length in days: sigPeriod 5 days, msValidity 365, sigValidity 730, msPeriod and sigReplay 61,
sigWindow, idtyWindow and msWindow 61, txWindow 7, UD reevaluation every 182.6 days; sigQty 5,
sigStock 100, stepMax 5, xPercent 0.8 and c as in Ğ1; medianTimeBlocks 5). A day is a UD block (nothing else),
then four blocks carrying the day's certifications (first ones and renewals), memberships
(renewals, joins: all in one block) and `payments` transactions between members. Default: 8,000
members, 3,000 days (3,000 UDs, 15,000 blocks), 20 payments a day. `--quick`: 1,000 members, 300
days, 10 payments a day. Built once, cached in bench/.cache/ under a key that hashes protocol/
and the generator, so a change of rules or formats rebuilds it.

Measured (targets from issue 17): a UD block against an empty block (within 2×), a block of
renewals and joiners (distance rule) against an empty block (within 20×; this chain puts a day's
memberships in one block, Ğ1 about one a block: a one-membership block is derived from it), both in memory
(MemoryState + validate_block) and on LevelDB (the chain manager's add_block); a payment from the
founder that never spent (one UD per day of the chain) against one from the newest member (one
UD), by block validation and mempool admission (within 2×); `juned audit --chain` (blocks/s, peak
RSS < 500 MB); `juned init` + `juned import` (time, peak RSS, LevelDB size); and a projection of
both to Ğ1's 900,000 blocks (target < 10 minutes each): Ğ1's daily mix of blocks costed at this
run's per-block rule costs, times the audit's (or import's) time per block over the rules-only
replay's on this chain; its assumptions printed with it.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from _common import ROOT, best_of
from _g1_chain import DAY_BLOCKS, MS_RENEW, G1Chain, generate, save

from node.audit.signatures import default_workers
from node.audit.source import ChainFileSource
from node.chainfile import read_chain, write_chain
from protocol.documents import Block
from protocol.rules.block import compute_block_delta, validate_block
from protocol.rules.production import FrameCache
from protocol.state import MemoryState

#: Bump when the generated chain changes shape (the protocol/ sources are hashed in anyway).
FORMAT = 1
CACHE = Path(__file__).resolve().parent / ".cache"
JUNED = Path(sys.executable).parent / "juned"
TAGS = ("empty", "ud", "wot", "pay_rich", "pay_poor")
LEVEL_RUNS = 3  # the tail is added to 3 copies of the imported store, each block's fastest kept

# Ğ1's mix, for the projection: 900,000 blocks of 5 minutes are 3,125 days of 288 blocks.
G1_BLOCKS = 900_000
G1_DAY_BLOCKS = 288
G1_WOT_BLOCKS = 30  # ~24 renewals and ~3 joins a day, assumed each in its own block (the worst case)
G1_DOC_BLOCKS = 100  # blocks a day with certifications or transactions (~120 certifications a day)


def cache_key(members: int, days: int, payments: int) -> str:
    digest = hashlib.sha256(f"{FORMAT} {members} {days} {payments}".encode())
    generator = [ROOT / "bench" / "_g1_chain.py", ROOT / "bench" / "_chain.py"]
    sources = [*sorted((ROOT / "protocol").rglob("*.py")), *generator]
    for path in sources:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def chain_files(members: int, days: int, payments: int, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    """The cached chain file and its description, generated first if missing."""
    stem = CACHE / f"g1-{members}m-{days}d-{payments}p-{cache_key(members, days, payments)}"
    path, meta_path = stem.with_suffix(".chain"), stem.with_suffix(".json")
    if rebuild or not meta_path.exists():
        CACHE.mkdir(exist_ok=True)
        for old in CACHE.glob(f"g1-{members}m-{days}d-{payments}p-*"):
            old.unlink()
        print(f"generating {members:,} members × {days:,} days → {path.name} (cached for later runs)")
        chain: G1Chain = generate(members, days, payments)
        save(chain, path, meta_path)
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    return path, meta


def run_child(command: list[str]) -> tuple[str, float, float]:
    """Run `command`; its standard output, wall seconds and peak resident memory in MB (its own,
    read with wait4, not the maximum over every child so far)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode() if process.stderr else ""
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command[:3])} failed: {stderr[-2000:]}")
        out.seek(0)
        return out.read().decode(), elapsed, usage.ru_maxrss / 1024


def measure_memory(blocks: Iterable[Block], tags: dict[str, list[int]]) -> tuple[dict[str, float], float]:
    """Seconds per tail block type (best of 5 validations, plus the one apply) in memory, and the
    replay rate of the blocks before the tail (the rules without signatures: the audit measures
    the whole; this only brings the state to the tail, faster)."""
    state = MemoryState()
    frames = FrameCache()  # the issuers frame carried from block to block, as the node and auditor do
    tail = min(n for tag in TAGS for n in tags[tag])
    kinds = {n: tag for tag in TAGS for n in tags[tag]}
    samples: dict[str, list[float]] = {tag: [] for tag in TAGS}
    start = time.perf_counter()
    replay = 0.0
    for block in blocks:
        if block.number < tail:
            state.apply(compute_block_delta(state, block, signatures=False, frames=frames), block.hash)
            continue
        if not replay:
            replay = tail / (time.perf_counter() - start)
        validation = best_of(5, lambda: validate_block(state, block, frames=frames))  # noqa: B023
        delta = validate_block(state, block, frames=frames)
        start = time.perf_counter()
        state.apply(delta, block.hash)
        samples[kinds[block.number]].append(validation + time.perf_counter() - start)
    return {tag: statistics.median(s) for tag, s in samples.items()}, replay


def measure_level(datadir: Path, path: Path, tail: int, rich: list[int], poor: list[int]) -> None:
    """Child process: the tail blocks through the chain manager on the imported store (synced at
    the end, as an import syncs every 100 blocks); a payment's mempool admission (best of 5, the
    payment removed after each) before its block. Prints JSON."""
    from node.chain import ChainManager, Outcome
    from node.datadir import STORE_NAME, read_config
    from node.mempool import Mempool
    from node.store import LevelStore

    config = read_config(datadir)
    store = LevelStore.open(datadir / STORE_NAME)
    manager = ChainManager(store, genesis_hash=config.genesis)
    times: dict[int, float] = {}
    admissions: dict[int, float] = {}
    for block in read_chain(path):
        if block.number < tail:
            continue
        if block.number in rich or block.number in poor:
            pool, tx = Mempool(store), block.transactions[0]

            def admit() -> None:
                pool.add(tx, durable=False)  # noqa: B023
                pool.remove([tx.hash])  # noqa: B023

            admissions[block.number] = best_of(5, admit)
        start = time.perf_counter()
        result = manager.add_block(block, durable=False)
        times[block.number] = time.perf_counter() - start
        assert result.outcome is Outcome.APPLIED, result.reason
    store.close()
    print(json.dumps({"times": times, "admissions": admissions}))


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 members, 300 days")
    parser.add_argument("--members", type=int, help="members (default 8,000; --quick 1,000)")
    parser.add_argument("--days", type=int, help="days, one UD each (default 3,000; --quick 300)")
    parser.add_argument("--payments", type=int, help="payments a day (default 20; --quick 10)")
    parser.add_argument("--rebuild", action="store_true", help="generate the chain even if cached")
    parser.add_argument(
        "--chain",
        type=Path,
        help="measure this chain file (and the .json beside it) instead, as generated earlier",
    )
    parser.add_argument("--measure-level", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tail", type=str, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure_level:
        tail, rich, poor = json.loads(arguments.tail)
        datadir, chain_path = arguments.measure_level
        measure_level(datadir, chain_path, tail, rich, poor)
        return
    members = arguments.members or (1_000 if arguments.quick else 8_000)
    days = arguments.days or (300 if arguments.quick else 3_000)
    payments = arguments.payments or (10 if arguments.quick else 20)
    if arguments.chain:
        path, meta = arguments.chain, json.loads(arguments.chain.with_suffix(".json").read_text())
    else:
        path, meta = chain_files(members, days, payments, arguments.rebuild)
    days = meta["dividends"]
    tags: dict[str, list[int]] = meta["tags"]
    print(
        f"chain: {meta['blocks']:,} blocks, {meta['members']:,} members, {meta['links']:,} live "
        f"certifications, {meta['dividends']:,} UDs, {meta['renewals']:,} renewals, "
        f"{meta['transactions']:,} payments; generated in {meta['seconds']:.0f} s "
        f"({meta['seconds'] / meta['blocks'] * 1000:.1f} ms a block)"
    )
    print(
        f"   web of trust grown towards: {meta['wot_links']:,} certifications ({meta['synthetic_links']:,} "
        f"added to the real ones); one Ğ1 day = {DAY_BLOCKS} blocks of 10 s, dt = {DAY_BLOCKS * 10} s"
    )
    print(
        f"   waiting at the end: {tags['waiting_joiners'][0]} newcomers, "
        f"{tags['queued_certifications'][0]:,} certifications (sigPeriod); "
        f"{meta['given_up']} memberships given up; the poor payers held {tags['poor_uds']} UDs; the "
        f"renewals + joiners blocks held {tags['wot_memberships']} memberships"
    )
    tail = min(n for tag in TAGS for n in tags[tag])
    count = meta["blocks"]
    ms = 1000
    # Each figure is printed as soon as it is measured (a full-scale run is long on today's code).

    # In memory: MemoryState + validate_block, on the tail; the blocks before it replayed first.
    memory, memory_rate = measure_memory(read_chain(path), tags)
    print(
        f"\nin memory (MemoryState + validate_block; median of {len(tags['ud'])} blocks, each the best of 5):"
    )
    print(f"   replay up to the tail (the rules without signatures): {memory_rate:,.0f} blocks/s")
    block_figures("memory", memory, meta)

    # Projection: per-block-type costs × Ğ1's daily mix, scaled by what the tool measured costs
    # beyond the rules alone on this chain.
    g1_days = G1_BLOCKS / G1_DAY_BLOCKS
    g1 = {
        "ud": g1_days,
        "wot_one": G1_WOT_BLOCKS * g1_days,
        "doc": G1_DOC_BLOCKS * g1_days,
        "empty": (G1_DAY_BLOCKS - 1 - G1_WOT_BLOCKS - G1_DOC_BLOCKS) * g1_days,
    }
    cost = {
        "ud": memory["ud"],
        "wot_one": one_membership_block(memory, tags),  # a Ğ1 block of one renewal or join
        "doc": memory["pay_poor"],
        "empty": memory["empty"],
    }
    rules_g1 = sum(g1[k] * cost[k] for k in g1)

    def project(seconds: float, blocks: int) -> None:
        """Ğ1's mix at this run's per-block rule costs (measured with the web of trust at its full
        size, at the tail), times the tool's cost per block relative to the rules-only replay of the
        same blocks (decoding, signatures, digests, storage): that ratio does not depend on how
        the chain's web of trust grew, which a calibration on this chain's own mix would."""
        overhead = seconds / blocks * memory_rate
        projected = rules_g1 * overhead
        naive = seconds / blocks * G1_BLOCKS
        print(
            f"   projected to Ğ1's {G1_BLOCKS:,} blocks: {projected / 60:.1f} min (target < 10 min) "
            f"{verdict(projected < 600)}: {rules_g1 / 60:.1f} min of rules × {overhead:.2f} (this tool's "
            f"time per block / the rules-only replay's); at this chain's own average rate (every block "
            f"busy) {naive / 60:.1f} min"
        )

    renewals = meta["members"] // MS_RENEW
    print(
        f"\nprojections to Ğ1's {G1_BLOCKS:,} blocks assume {g1_days:,.0f} days of {G1_DAY_BLOCKS} blocks:\n"
        f"   one UD block, {G1_WOT_BLOCKS} membership blocks (~{renewals} renewals and ~3 joins a day,\n"
        f"   each alone: the worst case), {G1_DOC_BLOCKS} blocks of certifications or payments (costed as\n"
        f"   a one-payment block), the rest empty; each type costs what it cost here in memory, with\n"
        f"   the web of trust at this run's size ({meta['members']:,} members)"
    )

    # The auditor on the whole chain.
    # with the signature workers a Ğ1-sized chain gets (`juned audit` starts none under 20,000 blocks)
    workers = default_workers()
    output, audit_seconds, audit_rss = run_child(
        [str(JUNED), "audit", "--chain", str(path), "--json", "--workers", str(workers)]
    )
    report = json.loads(output)
    assert report["verdict"] == "valid", report.get("verdict")
    print(
        f"\njuned audit --chain ({count:,} blocks, {workers} signature workers): {audit_seconds:.1f} s, "
        f"{count / audit_seconds:,.0f} "
        f"blocks/s, peak RSS {audit_rss:.0f} MB (target < 500 MB) {verdict(audit_rss < 500)}"
    )
    project(audit_seconds, count)

    with tempfile.TemporaryDirectory(prefix="june-bench-g1-") as work:
        scratch = Path(work)
        prefix = scratch / "prefix.chain"
        write_chain(prefix, (raw for i, raw in enumerate(ChainFileSource(path).blocks()) if i < tail))
        # Import (what a sync does: every rule, every signature, on LevelDB), then the tail.
        datadir = scratch / "node"
        run_child([str(JUNED), "init", "--datadir", str(datadir), "--genesis", str(prefix)])
        _, import_seconds, import_rss = run_child(
            [str(JUNED), "import", "--datadir", str(datadir), str(prefix), "--json"]
        )
        size = sum(f.stat().st_size for f in datadir.rglob("*") if f.is_file())
        print(
            f"\njuned init + import (the first {tail:,} blocks): {import_seconds:.1f} s, "
            f"{tail / import_seconds:,.0f} blocks/s, peak RSS {import_rss:.0f} MB; LevelDB "
            f"{size / 2**20:.0f} MB on disk",
            flush=True,
        )
        spec = json.dumps([tail, tags["pay_rich"], tags["pay_poor"]])
        runs = []
        for run in range(LEVEL_RUNS):  # each on a fresh copy of the imported store: a block applies once
            copy = scratch / f"node{run}"
            shutil.copytree(datadir, copy)
            output, tail_seconds, level_rss = run_child(
                [sys.executable, __file__, "--measure-level", str(copy), str(path), "--tail", spec]
            )
            runs.append(json.loads(output))
            shutil.rmtree(copy)

    def fastest(kind: str, number: int) -> float:
        return min(float(r[kind][str(number)]) for r in runs)

    level = {tag: statistics.median(fastest("times", n) for n in tags[tag]) for tag in TAGS}
    admission = {
        tag: statistics.median(fastest("admissions", n) for n in tags[tag])
        for tag in ("pay_rich", "pay_poor")
    }
    print(
        f"   a node with that store open, adding the tail: peak RSS {level_rss:.0f} MB ({tail_seconds:.1f} s)"
    )
    print(
        f"on LevelDB (the chain manager's add_block on the imported store; median of {len(tags['ud'])} "
        f"blocks, each the fastest of {LEVEL_RUNS} copies of the store):"
    )
    block_figures("LevelDB", level, meta)
    pay = admission["pay_rich"] / admission["pay_poor"]
    print(
        f"   mempool admission: payer holding {meta['dividends']:,} UDs {admission['pay_rich'] * ms:.2f} ms, "
        f"holding ~1 {admission['pay_poor'] * ms:.2f} ms: {pay:.2f}× (target ≤ 2×) {verdict(pay <= 2)}"
    )
    print(f"sync (the import of the first {tail:,} blocks above, as a sync applies them):")
    project(import_seconds, tail)


def one_membership_block(figures: dict[str, float], tags: dict[str, list[int]]) -> float:
    """A block holding one renewal or join, derived from this chain's blocks of a day's memberships:
    an empty block's cost plus one membership's share of what a membership block adds."""
    memberships = statistics.mean(tags["wot_memberships"])
    return figures["empty"] + (figures["wot"] - figures["empty"]) / memberships


def block_figures(name: str, figures: dict[str, float], meta: dict[str, Any]) -> None:
    ms = 1000
    for tag, label in (
        ("empty", "empty block"),
        ("ud", f"UD block ({meta['members']:,} members)"),
        ("wot", "renewals + joiners block"),
        ("pay_rich", f"payment, payer holding {meta['dividends']:,} UDs"),
        ("pay_poor", "payment, payer holding ~1 UD"),
    ):
        print(f"   {label:<40} {figures[tag] * ms:9.2f} ms")
    ud = figures["ud"] / figures["empty"]
    wot = figures["wot"] / figures["empty"]
    pay = figures["pay_rich"] / figures["pay_poor"]
    one = one_membership_block(figures, meta["tags"]) / figures["empty"]
    held = statistics.mean(meta["tags"]["wot_memberships"])
    print(
        f"   {name}: UD/empty {ud:.2f}× (target ≤ 2×) {verdict(ud <= 2)}; rich/poor payment {pay:.2f}× "
        f"(target ≤ 2×) {verdict(pay <= 2)}\n"
        f"   renewals/empty {wot:.1f}× for a block of {held:.0f} memberships; a block of one renewal "
        f"(derived: empty + one membership's share) {one:.1f}× (target ≤ 20×) {verdict(one <= 20)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
