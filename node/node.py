"""A running node: its store, chain, mempool and libp2p host, and the loop that keeps it in sync.

Every few hundred milliseconds the node asks each connected peer for its head; when a peer is
ahead (or on another branch), it finds the fork point from block hashes and downloads the blocks
after it, which the chain applies or keeps as fork candidates (the fork rule decides).
"""

import logging
from pathlib import Path
from typing import Any

import multiaddr
import trio
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.chain import ChainManager, Outcome
from node.clock import Clock
from node.datadir import open_store
from node.mempool import Mempool
from node.p2p.bans import BanList
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.messages import MAX_COUNT, PeerError, Request
from node.p2p.sync import BLOCKS, HASHES, STATUS, STATUS_PROTOCOL, SyncServer, request, sync_protocol
from node.prover import ProofSearch
from protocol.documents import Block
from protocol.errors import DecodeError
from protocol.forge import ForgeError, build_block, required_difficulty
from protocol.keys import Keypair

log = logging.getLogger("june.node")

SYNC_INTERVAL = 0.3
FORGE_TICK = 0.2
CONNECT_ATTEMPTS = 5


class ForeignPeer(Exception):
    """A peer of another currency (another block 0)."""


class Node:
    """One June node over its data directory."""

    def __init__(
        self,
        datadir: Path,
        *,
        listen: str | None = None,
        forger: Keypair | None = None,
        clock: Clock | None = None,
        cpu_share: float = 0.5,
    ) -> None:
        self.forger = forger
        self.clock = clock or Clock()
        self.cpu_share = cpu_share
        self.config, self.store = open_store(datadir)
        self.chain = ChainManager(self.store, genesis_hash=self.config.genesis)
        self.mempool = Mempool(self.store)
        self.host = make_host(load_or_create_identity(datadir))
        self.listen = multiaddr.Multiaddr(listen or self.config.listen)
        self.protocol = sync_protocol(self.config.genesis)
        self.server = SyncServer(self.chain, self.fault)
        self.bans = BanList()
        self.host.get_network().register_notifee(self.bans)
        self._stopped = trio.Event()

    @property
    def address(self) -> str:
        """The node's full address, `/ip4/…/tcp/…/p2p/<peer id>` (once running)."""
        return str(self.host.get_addrs()[0])

    def head(self) -> tuple[int, bytes, bytes] | None:
        return self.store.head_pointer()

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with self.host.run(listen_addrs=[self.listen]):
            self.host.set_stream_handler(self.protocol, self.server.handle)
            self.host.set_stream_handler(STATUS_PROTOCOL, self.server.handle_status)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._sync_loop)
                if self.forger is not None:
                    nursery.start_soon(self._forge_loop)
                task_status.started()
                await self._stopped.wait()
                nursery.cancel_scope.cancel()

    def stop(self) -> None:
        self._stopped.set()

    def close(self) -> None:
        self.store.close()

    async def connect(self, address: str) -> None:
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                await self.host.connect(info)
                return
            except Exception:  # py-libp2p sometimes fails a fresh negotiation (libp2p-notes P18)
                if attempt == CONNECT_ATTEMPTS - 1:
                    raise
                await trio.sleep(0.2 * (attempt + 1))

    def peers(self) -> list[Any]:
        return [p for p in self.host.get_connected_peers() if not self.bans.is_banned(p)]

    async def fault(self, peer: Any, reason: str) -> None:
        """Count a provable fault of `peer`; ban it after repeated ones."""
        if self.bans.fault(peer, reason):
            await self._drop(peer)

    async def _drop(self, peer: Any) -> None:
        self.host.get_peerstore().clear_addrs(peer)  # or the auto-connector dials it again (P13)
        try:
            await self.host.disconnect(peer)
        except Exception as exc:  # already gone
            log.info("disconnecting %s: %s", peer, exc)

    async def _sync_loop(self) -> None:
        while True:
            for peer in self.peers():
                try:
                    await self.sync_with(peer)
                except ForeignPeer as exc:
                    self.bans.ban(peer, str(exc))
                    await self._drop(peer)
                except (PeerError, DecodeError) as exc:  # the peer's fault: it answered wrongly
                    await self.fault(peer, f"sync: {exc}")
                except Exception as exc:  # timeouts and broken streams: nobody to blame
                    log.info("sync with %s failed: %s", peer, exc)
            await trio.sleep(SYNC_INTERVAL)

    async def _forge_loop(self) -> None:
        """Forge the next block when this node's member may: paced at avgGenTime of its clock,
        never dated ahead of its clock, the nonce searched in worker processes and abandoned as
        soon as another head arrives."""
        assert self.forger is not None
        while True:
            await trio.sleep(FORGE_TICK)
            head, params = self.store.head(), self.chain.params
            identity = self.store.identity(self.forger.public_key)
            if head is None or params is None or identity is None or not identity.member:
                continue
            now = self.clock.now()
            if now < head.time + params.avg_gen_time or now < head.median_time:
                continue
            try:
                block = build_block(self.store, self.mempool.documents(), self.forger.public_key, now)
            except ForgeError as exc:
                log.info("cannot forge: %s", exc)
                continue
            nonce = await self._search(block, required_difficulty(self.store, block), head.number)
            if nonce is None:
                continue  # a better head arrived first
            signed = block.signed(self.forger, nonce)
            result = self.chain.add_block(signed)
            log.info("forged block %d: %s", signed.number, result.outcome)
            self.mempool.revalidate()

    async def _search(self, block: Block, difficulty: int, head_number: int) -> int | None:
        search = ProofSearch(block, difficulty, cpu_share=self.cpu_share)
        try:
            while True:
                nonce = await trio.to_thread.run_sync(search.result, FORGE_TICK)
                if nonce is not None:
                    return nonce
                pointer = self.store.head_pointer()
                if pointer is None or pointer[0] != head_number:
                    return None
        finally:
            await trio.to_thread.run_sync(search.cancel)

    async def sync_with(self, peer: Any) -> int:
        """Bring this node up to `peer`'s chain if it is ahead; return the blocks taken."""
        status = await request(self.host, peer, STATUS_PROTOCOL, Request(STATUS), STATUS)
        if status.genesis != self.config.genesis:
            raise ForeignPeer(f"{peer} runs another currency")
        ours = self.store.head_pointer()
        assert ours is not None
        if status.head_number < ours[0] or status.head_hash == ours[1]:
            return 0
        if status.head_number == ours[0]:
            return 0  # same height, another branch: not better by the fork rule
        params = self.chain.params
        window = 100 if params is None else params.fork_window_size
        low = max(0, min(ours[0], status.head_number) - window)
        top = min(ours[0], status.head_number)
        theirs = await request(self.host, peer, self.protocol, Request(HASHES, low, top - low + 1), HASHES)
        fork = low - 1
        for offset, block_hash in enumerate(theirs):
            if self.store.block_hash(low + offset) == block_hash:
                fork = low + offset
        taken = 0
        number = fork + 1
        while number <= status.head_number:
            count = min(MAX_COUNT, status.head_number - number + 1)
            raw_blocks = await request(self.host, peer, self.protocol, Request(BLOCKS, number, count), BLOCKS)
            if not raw_blocks:
                break
            for raw in raw_blocks:
                block = Block.from_bytes(raw, currency=self.config.currency)
                result = self.chain.add_block(block)
                if result.outcome is Outcome.INVALID:
                    raise PeerError(f"sent invalid block {block.number}: {result.reason}")
                taken += result.outcome in (Outcome.APPLIED, Outcome.SWITCHED, Outcome.CANDIDATE)
                number += 1
        if taken:
            self.mempool.revalidate()
        return taken
