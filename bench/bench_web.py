"""Issue 18's figure: the web interface's page render times on a large chain, each against a
reference measured in the same run (the JSON `/currency` answer, and `/history` for the account
page, whose cost is the API's history scan), and the charts' series: first load against cached.

The chain is bench/_g1_chain.py's (the Ğ1-shaped generator of bench_g1_scale.py, one Ğ1 day of 5
blocks of 10 s): by default 1,000 members × 20,000 days = 100,000 blocks, generated once and
imported once (`juned init` + `juned import`), both cached under bench/.cache. A chain file of the
same shape left by an older revision of protocol/ is reused (`--fresh` generates it again).

The app is served in process (httpx's ASGITransport, flood limits off); each page is asked
`--runs` times and its median printed. The charts sample one point per day of median time: the
bench chain's 100,000 blocks of 10 s span 12 days, so the series is also built with one point per
2,880 s (288 blocks a point, as the 347 days of a real chain of 100,000 blocks of 5 minutes) and
per 50 s (its scaled Ğ1 day: 20,000 points, more than 50 years of real days), the worst case.
"""

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import trio
from _common import ROOT

from node.api.app import build_app
from node.api.context import ApiContext
from node.api.limits import Limits
from node.chain import ChainManager
from node.mempool import AdmissionResult, Mempool
from node.store import LevelStore
from node.web.series import SeriesCache
from protocol.documents.pending import PendingDocument
from protocol.keys import pubkey_display

CACHE = ROOT / "bench" / ".cache"
JUNED = Path(sys.executable).parent / "juned"


def chain_file(members: int, days: int, payments: int, fresh: bool) -> Path:
    """The cached chain file of that shape, generated first if there is none (or `fresh`)."""
    if not fresh:
        found = sorted(
            CACHE.glob(f"g1-{members}m-{days}d-{payments}p-*.chain"), key=lambda p: p.stat().st_mtime
        )
        if found and found[-1].with_suffix(".json").exists():
            return found[-1]
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_g1_scale import chain_files

    path, _meta = chain_files(members, days, payments, rebuild=fresh)
    return path


def imported(path: Path) -> Path:
    """A data directory holding the chain of `path`, imported once and kept next to it."""
    datadir = CACHE / f"web-{path.stem}"
    marker = datadir / "imported"
    if not marker.exists():
        subprocess.run(["rm", "-rf", str(datadir)], check=True)
        print(f"importing {path.name} into {datadir.name} (cached for later runs)", flush=True)
        started = time.perf_counter()
        subprocess.run([str(JUNED), "init", "--datadir", str(datadir), "--genesis", str(path)], check=True)
        subprocess.run([str(JUNED), "import", "--datadir", str(datadir), str(path)], check=True)
        print(f"imported in {time.perf_counter() - started:.0f} s", flush=True)
        marker.touch()
    return datadir / "db"


async def median_of(runs: int, call: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def measure(store: LevelStore, runs: int) -> None:
    manager, pool = ChainManager(store), Mempool(store)

    async def submit(document: PendingDocument) -> AdmissionResult:
        return pool.add(document)

    api = ApiContext(store=store, chain=manager, mempool=pool, submit=submit)
    app = build_app(api, limits=Limits(rate=None, concurrency=1000))
    pointer = store.head_pointer()
    assert pointer is not None
    head = pointer[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://june") as http:

        async def get(path: str) -> httpx.Response:
            answer = await http.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            return answer

        started = time.perf_counter()
        await get("/")
        first_page = time.perf_counter() - started
        found = (await get("/identities?search=member1&limit=1")).json()["identities"][0]
        uid, key = found["uid"], found["pubkey"]
        rich = pubkey_display(store.block(0).issuer)  # type: ignore[union-attr]
        reference = await median_of(runs, lambda: get("/currency"))
        history = await median_of(runs, lambda: get(f"/history/{key}?limit=50"))
        print(f"\nchain: {head + 1:,} blocks; pages asked {runs} times each, median (× the JSON reference)")
        print(f"  reference GET /currency (JSON)             {reference * 1000:8.1f} ms")
        print(f"  reference GET /history/KEY?limit=50 (JSON) {history * 1000:8.1f} ms")
        print(f"  first GET / (compiles templates, series)   {first_page * 1000:8.1f} ms")
        pages = [
            ("/", reference),
            ("/chain", reference),
            (f"/chain?start={head // 2}", reference),
            (f"/chain/{head}", reference),
            (f"/chain/{head // 2}", reference),
            ("/members?q=member1", reference),
            (f"/members/{uid}", reference),
            (f"/accounts/{key}", history),
            (f"/accounts/{rich}", history),
            ("/operator/pending", reference),
            ("/operator/peers", reference),
            (f"/pay/{key}?amount=12.50&comment=merci", reference),
        ]
        for path, against in pages:
            seconds = await median_of(runs, lambda path=path: get(path))  # type: ignore[misc]
            label = path if len(path) < 44 else path[:41] + "…"
            name = "/history" if against is history else "/currency"
            print(f"  {label:<44} {seconds * 1000:8.1f} ms  {seconds / against:6.1f}× {name}")

    print("\nthe charts' series (SeriesCache.series)")
    periods = (
        (86400, "one point a day"),
        # a real chain's blocks come every 5 minutes: its 100,000 blocks span 347 days of 288 blocks
        (2880, "one point per 2,880 s (288 blocks: the days of 100,000 blocks of 5 min)"),
        (50, "one point per 50 s (the bench chain's Ğ1 day: worst case)"),
    )
    for period, what in periods:
        cache = SeriesCache(period)
        started = time.perf_counter()
        points = await cache.series(store)
        first = time.perf_counter() - started
        cached = await median_of(runs, lambda cache=cache: cache.series(store))  # type: ignore[misc]
        # the head moved by a day: the cache stands one point back on the same branch
        behind = SeriesCache(period)
        extension = []
        for _ in range(runs):
            behind.days, behind.last = list(points[:-2]), points[-2]
            behind.head = (points[-2].number, bytes(store.block_hash(points[-2].number) or b""))
            started = time.perf_counter()
            await behind.series(store)
            extension.append(time.perf_counter() - started)
        print(
            f"  {what}: {len(points):,} points; first load {first * 1000:.1f} ms, cached "
            f"{cached * 1000:.3f} ms, extended by a day {statistics.median(extension) * 1000:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument(
        "--days", type=int, default=20_000, help="Ğ1 days of 5 blocks (20,000: 100,000 blocks)"
    )
    parser.add_argument("--payments", type=int, default=5, help="payments a day")
    parser.add_argument("--runs", type=int, default=7, help="times each page is asked")
    parser.add_argument("--fresh", action="store_true", help="generate the chain again")
    args = parser.parse_args()
    path = chain_file(args.members, args.days, args.payments, args.fresh)
    store = LevelStore.open(imported(path), create=False)
    try:
        trio.run(measure, store, args.runs)
    finally:
        store.close()


if __name__ == "__main__":
    main()
