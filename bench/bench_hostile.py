"""Sync under hostile peers, against a clean sync in the same run; and a node's memory under attack.

Sync: two honest `juned run` processes hold a chain of 10,000 blocks; a newcomer in this process
syncs it (the reference), then syncs it again with a silent peer among the honest ones (it accepts
connections and streams, and never answers), then with a liar (it claims a head of 2^62 and serves
nothing). Target: with the bad peer, at least 80 % of the clean rate.

Memory: a `juned run` process is attacked by gossip floods (1,000 pending identities from throwaway
keys, 200 junk blocks), garbage on every protocol and a lying head; its peak resident memory
(VmHWM) is printed against the same process's peak before the attacks.

Default: 100 members, 10,000 blocks. `--blocks`/`--members` to change it.
"""

import argparse
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repository on sys.path)
import multiaddr
import trio
from bench_store import generate
from bench_sync import first_block_only, import_chain, start_server, sync_from
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.chainfile import read_chain
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.network import STATUS_PROTOCOL, sync_protocol
from protocol.documents import Block
from tests.node.hostile import (
    answer_sync,
    attacker,
    flood_identities,
    gossiping_attacker,
    keep_silent,
    lying_status,
    victim,
)
from tests.node.test_hostile_peers import junk_block

LOOPBACK = "/ip4/127.0.0.1/tcp/0"


@asynccontextmanager
async def bad_peer(directory: Path, genesis: Block, kind: str) -> AsyncIterator[Any]:
    """A libp2p peer that is `silent` (never answers) or a `liar` (head 2^62, serves nothing)."""
    directory.mkdir(parents=True, exist_ok=True)
    host = make_host(load_or_create_identity(directory))

    if kind == "silent":
        keep_silent(host, genesis)
    else:
        answer_sync(host, genesis, lying_status(genesis))
    async with host.run(listen_addrs=[multiaddr.Multiaddr(LOOPBACK)]):
        yield host


async def sync_with(kind: str, honest: list[str], root: Path, chain_file: Path, target: int) -> float:
    genesis = next(read_chain(chain_file))
    newcomer = root / f"newcomer-{kind}-{time.monotonic_ns()}"
    first_block_only(chain_file, newcomer)
    if kind == "clean":
        return await sync_from(honest, newcomer, target)
    async with bad_peer(root / kind, genesis, kind) as host:
        address = str(host.get_addrs()[0])
        return await sync_from([address, *honest], newcomer, target)  # the bad peer dialled first


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return 0.0 if found is None else int(found.group(1)) / 1024


async def memory_under_attack(root: Path, chain_file: Path) -> None:
    genesis = next(read_chain(chain_file))
    datadir = root / "attacked"
    shutil.copytree(root / "reference", datadir)
    async with victim(datadir) as node:
        before = peak_rss_mb(node.process.pid)
        started = time.perf_counter()
        async with gossiping_attacker(root / "flooder", genesis) as (peer, gossip):
            await peer.connect(node.address)
            with trio.fail_after(20):
                while not gossip.subscribed(node.peer_id, "documents"):
                    await trio.sleep(0.05)
            await flood_identities(gossip, genesis, 1000)
            for number in range(1, 200):
                await gossip.pubsub.publish(gossip.blocks_topic, junk_block(genesis, number).to_bytes())
                await trio.sleep(0.005)
        async with attacker(root / "garbage") as raw:
            target = await raw.connect(node.address)
            protocols = [STATUS_PROTOCOL, sync_protocol(genesis.hash), "/meshsub/1.1.0", "/meshsub/1.0.0"]
            for protocol in protocols:
                for _ in range(5):
                    await raw.send_raw(target, str(protocol), os.urandom(200))
        async with bad_peer(root / "liar-m", genesis, "liar") as liar:
            await liar.connect(info_from_p2p_addr(multiaddr.Multiaddr(node.address)))
            await node.wait_for_log("announced a head it could not serve", 30)
        after = peak_rss_mb(node.process.pid)
        print(
            f"node peak resident memory: {before:.0f} MB before the attacks, {after:.0f} MB after "
            f"{time.perf_counter() - started:.0f} s of floods ({after / before:.2f}x); alive: {node.alive()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=10_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="june-bench-hostile-") as scratch:
        root = Path(scratch)
        chain_file = root / "chain.june"
        generate(chain_file, arguments.members, arguments.blocks)
        count, _elapsed = import_chain(chain_file, root / "reference")
        servers = []
        try:
            for index in range(2):
                shutil.copytree(root / "reference", root / f"server{index}")
                servers.append(start_server(root / f"server{index}"))
            honest = [address for _, address in servers]
            rates: dict[str, list[float]] = {"clean": [], "silent": [], "liar": []}
            # the clean reference runs first and last (the first run of a series warms caches)
            for kind in ("clean", "silent", "liar", "clean"):
                elapsed = trio.run(sync_with, kind, honest, root, chain_file, count - 1)
                rates[kind].append((count - 1) / elapsed)
            clean = max(rates["clean"])
            shown = ", ".join(f"{rate:,.0f}" for rate in rates["clean"])
            print(f"sync of {count - 1} blocks from 2 honest peers: {clean:,.0f} blocks/s (runs: {shown})")
            for kind in ("silent", "liar"):
                print(
                    f"  with a {kind} peer among them: {rates[kind][0]:,.0f} blocks/s = "
                    f"{rates[kind][0] / clean:.0%} of the clean rate (target ≥ 80 %)"
                )
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait(timeout=30)
        trio.run(memory_under_attack, root, chain_file)


if __name__ == "__main__":
    main()
