"""A running node: its store, chain, mempool, libp2p host, gossip, sync, peer book and forger.

Blocks arrive two ways: pushed by gossip (validated cheaply before relay, fully by the chain
manager) and pulled by the sync loop, which every few hundred milliseconds asks each peer for its
head and catches up with the best one. Pending documents arrive by gossip (or the client API) and
enter the mempool if the rules admit them. Blocks dated too far ahead of this node's clock wait
until their time comes.
"""

import logging
import time
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import multiaddr
import trio
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.api.app import build_app
from node.api.context import ApiContext
from node.api.serve import serve_api
from node.chain import AddResult, ChainManager, Outcome
from node.clock import Clock
from node.datadir import open_store
from node.forger import DEFAULT_TURN_SPACING, Forger
from node.mempool import Admission, AdmissionResult, Mempool, NotReady
from node.p2p.bans import BanList
from node.p2p.gossip import Gossip, Received
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.messages import PEERS, PeerError, Request, Status
from node.p2p.peers import PeerBook, peer_id_of
from node.p2p.sync import STATUS_PROTOCOL, SyncServer, request, sync_protocol
from node.syncer import ForeignPeer, SyncAborted, Syncer
from protocol.documents import Block
from protocol.documents.pending import PendingDocument
from protocol.errors import DecodeError, ProtocolError, RuleViolation
from protocol.keys import Keypair
from protocol.rules.production import is_hash_valid

log = logging.getLogger("june.node")

#: Peers' heads are polled this often; gossip brings new blocks sooner, and a gossiped block that
#: does not fit our head (a gap, another branch) or a new connection starts a round at once.
SYNC_INTERVAL = 2.0
RECONNECT_INTERVAL = 1.0
PEER_EXCHANGE_INTERVAL = 5.0
CONNECT_ATTEMPTS = 3
CONNECT_TIMEOUT = 10.0
#: Peers this node dials on its own; more may dial in.
MAX_OUTBOUND = 32
#: How far ahead of the node's clock a block may be dated and still be taken now.
FUTURE_TOLERANCE = 60
#: Blocks kept while they wait for their time.
MAX_FUTURE_BLOCKS = 256


class Node:
    """One June node over its data directory."""

    def __init__(
        self,
        datadir: Path,
        *,
        listen: str | None = None,
        bootstrap: Sequence[str] | None = None,
        forger: Keypair | None = None,
        clock: Clock | None = None,
        cpu_share: float = 0.5,
        turn_spacing: float = DEFAULT_TURN_SPACING,
        api: str | None = None,
    ) -> None:
        self.datadir = datadir
        self.clock = clock or Clock()
        self.config, self.store = open_store(datadir)
        self.chain = ChainManager(self.store, genesis_hash=self.config.genesis)
        self.mempool = Mempool(self.store)
        self.host = make_host(load_or_create_identity(datadir))
        self.listen = multiaddr.Multiaddr(listen or self.config.listen)
        self.protocol = sync_protocol(self.config.genesis)
        self.peer_book = PeerBook(
            datadir,
            me=str(self.host.get_id()),
            bootstrap=self.config.bootstrap if bootstrap is None else bootstrap,
        )
        self.server = SyncServer(self.chain, self.fault, self._advertised)
        self.bans = BanList()
        self.host.get_network().register_notifee(self.bans)
        self.gossip = Gossip(
            self.host,
            genesis=self.config.genesis,
            currency=self.config.currency,
            fault=self.fault,
            header_check=self._header_refusal,
        )
        self.syncer = Syncer(
            self.host, self.chain, self.protocol, self.config.currency, self.fault, too_early=self._too_early
        )
        self.forger = (
            None
            if forger is None
            else Forger(
                forger,
                self.store,
                self.chain,
                self.mempool,
                self.clock,
                self.gossip.publish_block,
                cpu_share=cpu_share,
                turn_spacing=turn_spacing,
            )
        )
        self.api_bind = self.config.api if api is None else api
        self.api_url = ""  # once running, if the API is served
        self._future: dict[bytes, tuple[Block, Any]] = {}
        self._sync_now = trio.Event()
        self._stopped = trio.Event()

    @property
    def address(self) -> str:
        """The node's full address, `/ip4/…/tcp/…/p2p/<peer id>` (once running)."""
        return str(self.host.get_addrs()[0])

    def head(self) -> tuple[int, bytes, bytes] | None:
        return self.store.head_pointer()

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until `stop()`; pubsub services wrap the host so they close last (libp2p-notes §2)."""
        async with self.gossip.services(), self.host.run(listen_addrs=[self.listen]):
            self.host.set_stream_handler(self.protocol, self.server.handle)
            self.host.set_stream_handler(STATUS_PROTOCOL, self.server.handle_status)
            async with trio.open_nursery() as nursery:
                await self.gossip.start(nursery)
                nursery.start_soon(self._sync_loop)
                nursery.start_soon(self._reconnect_loop)
                nursery.start_soon(self._receive_blocks)
                nursery.start_soon(self._receive_documents)
                if self.forger is not None:
                    nursery.start_soon(self.forger.run)
                if self.api_bind:
                    urls = await nursery.start(serve_api, build_app(self.api_context()), self.api_bind)
                    self.api_url = urls[0]
                    log.info("client API on %s", self.api_url)
                log.info("node %s listening on %s", self.host.get_id(), self.address)
                task_status.started()
                await self._stopped.wait()
                nursery.cancel_scope.cancel()
            await self._disconnect_all()

    def stop(self) -> None:
        self._stopped.set()

    def api_context(self) -> ApiContext:
        return ApiContext(
            store=self.store,
            chain=self.chain,
            mempool=self.mempool,
            submit=self.submit,
            peers=lambda: len(self.peers()),
            address=lambda: self.address,
        )

    def close(self) -> None:
        self.store.close()

    async def connect(self, address: str) -> None:
        """Dial `address` now and remember it in the peer book."""
        self.peer_book.add(address)
        await self._dial(address)

    def peers(self) -> list[Any]:
        return [p for p in self.host.get_connected_peers() if not self.bans.is_banned(p)]

    async def submit(self, document: PendingDocument) -> AdmissionResult:
        """Admit a pending document into the mempool and gossip it (raises `RuleViolation`)."""
        result = self.mempool.add(document)
        if result.admission is Admission.ACCEPTED:
            await self.gossip.publish_document(document)
        return result

    async def fault(self, peer: Any, reason: str) -> None:
        """Count a provable fault of `peer`; ban it after repeated ones."""
        if self.bans.fault(peer, reason):
            await self._ban(peer)

    async def _ban(self, peer: Any) -> None:
        self.gossip.pubsub.add_to_blacklist(peer)
        self.peer_book.forget(str(peer))
        self.host.get_peerstore().clear_addrs(peer)  # or the auto-connector dials it again (P13)
        try:
            await self.host.disconnect(peer)
        except Exception as exc:  # already gone
            log.info("disconnecting %s: %s", peer, exc)

    async def _disconnect_all(self) -> None:
        async with trio.open_nursery() as nursery:
            for peer in list(self.host.get_connected_peers()):
                nursery.start_soon(self._quiet_disconnect, peer)

    async def _quiet_disconnect(self, peer: Any) -> None:
        try:
            await self.host.disconnect(peer)
        except Exception as exc:
            log.info("disconnecting %s: %s", peer, exc)

    # --- blocks -------------------------------------------------------------------------------

    def _header_refusal(self, block: Block) -> str | None:
        """Why a gossiped block is not relayed (cheap checks only), or None to relay it."""
        reason = self.store.invalid_reason(block.hash)
        if reason is not None:
            return f"known invalid: {reason}"
        pointer, params = self.store.head_pointer(), self.chain.params
        if pointer is None or params is None:
            return "this node has no chain yet"
        if block.number <= pointer[0] - params.fork_window_size:
            return "beyond the fork window"
        if self._too_early(block):
            return "dated ahead of this node's clock"
        if not is_hash_valid(block.hash, block.pow_min):
            return "its hash does not meet the minimal proof of work"
        return None

    def _too_early(self, block: Block) -> bool:
        return block.time > self.clock.now() + FUTURE_TOLERANCE

    async def take_block(self, block: Block, source: Any) -> AddResult | None:
        """Give a block to the chain, or keep it until its time if it is dated too far ahead."""
        if self._too_early(block):
            if len(self._future) < MAX_FUTURE_BLOCKS:
                self._future[block.hash] = (block, source)
            return None
        result = self.chain.add_block(block)
        if result.outcome is Outcome.INVALID:
            await self.fault(source, f"block {block.number} breaks a rule: {result.reason}")
        elif result.outcome is Outcome.CANDIDATE:
            self._sync_now.set()  # we lack its parent, or it is on another branch: ask peers now
        elif result.outcome in (Outcome.APPLIED, Outcome.SWITCHED):
            # the wall-clock time lets a benchmark measure propagation across processes
            log.info("block %d %s at %.6f", block.number, result.outcome, time.time())
            self.mempool.revalidate()
        return result

    async def _receive_blocks(self) -> None:
        async for received in self.gossip.block_inbox:
            await self.take_block(received.item, received.origin)

    async def _take_due_blocks(self) -> None:
        now = self.clock.now()
        for block_hash, (block, source) in sorted(self._future.items(), key=lambda e: e[1][0].number):
            if block.time <= now + FUTURE_TOLERANCE:
                del self._future[block_hash]
                await self.take_block(block, source)

    # --- pending documents --------------------------------------------------------------------

    async def _receive_documents(self) -> None:
        async for received in self.gossip.document_inbox:
            await self._take_document(received)

    async def _take_document(self, received: Received) -> None:
        try:
            self.mempool.add(received.item, durable=False)
        except RuleViolation as exc:  # spent meanwhile, or not yet valid here: not a fault
            log.info("pending document refused: %s", exc)
        except (ProtocolError, NotReady) as exc:
            log.info("pending document not taken: %s", exc)

    # --- peers and sync -----------------------------------------------------------------------

    def _advertised(self) -> list[str]:
        """What this node answers to a `peers` request: its own address first."""
        own = [self.address] if self.host.get_addrs() else []
        return own + self.peer_book.addresses()

    async def _dial(self, address: str) -> None:
        peer = peer_id_of(address)
        if peer is None or self.bans.is_banned(peer):
            return
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                with trio.fail_after(CONNECT_TIMEOUT):
                    await self.host.connect(info)
                self.peer_book.succeeded(peer)
                self._sync_now.set()
                return
            except Exception as exc:  # a fresh negotiation sometimes fails (libp2p-notes P18)
                if attempt == CONNECT_ATTEMPTS - 1:
                    self.peer_book.failed(peer)
                    log.info("cannot reach %s: %s", address, exc)
                    return
                await trio.sleep(0.2 * (attempt + 1))

    async def _reconnect_loop(self) -> None:
        """Keep dialling the peers of the book (bootstrap ones included) that are not connected."""
        since_exchange = PEER_EXCHANGE_INTERVAL
        while True:
            connected = {str(p) for p in self.host.get_connected_peers()}
            if len(connected) < MAX_OUTBOUND:
                async with trio.open_nursery() as nursery:
                    for address in self.peer_book.due(connected)[: MAX_OUTBOUND - len(connected)]:
                        nursery.start_soon(self._dial, address)
            since_exchange += RECONNECT_INTERVAL
            if since_exchange >= PEER_EXCHANGE_INTERVAL:
                since_exchange = 0.0
                await self._exchange_peers()
            await trio.sleep(RECONNECT_INTERVAL)

    async def _exchange_peers(self) -> None:
        for peer in self.peers():
            try:
                addresses = await request(self.host, peer, self.protocol, Request(PEERS), PEERS)
            except (PeerError, DecodeError) as exc:
                await self.fault(peer, f"peers: {exc}")
                continue
            except Exception as exc:
                log.info("peers of %s: %s", peer, exc)
                continue
            for address in addresses:
                self.peer_book.add(address)

    async def _sync_loop(self) -> None:
        while True:
            await self._take_due_blocks()
            statuses = await self._statuses()
            try:
                taken = await self.syncer.catch_up(statuses, self._statuses)
            except SyncAborted as exc:
                log.info("sync round stopped: %s", exc)
            except (PeerError, DecodeError) as exc:
                log.info("sync round failed: %s", exc)
            except Exception as exc:  # timeouts and broken streams: try again next round
                log.info("sync round failed: %s", exc)
            else:
                if taken:
                    self.mempool.revalidate()
            with trio.move_on_after(SYNC_INTERVAL):
                await self._sync_now.wait()
            self._sync_now = trio.Event()

    async def _statuses(self, known: AbstractSet[Any] = frozenset()) -> dict[Any, Status]:
        """The head of every connected peer not in `known`, asked concurrently; foreign peers are
        banned on the spot."""
        statuses: dict[Any, Status] = {}

        async def ask(peer: Any) -> None:
            try:
                statuses[peer] = await self.syncer.status(peer)
            except ForeignPeer as exc:
                self.bans.ban(peer, str(exc))
                await self._ban(peer)
            except (PeerError, DecodeError) as exc:
                await self.fault(peer, f"status: {exc}")
            except Exception as exc:
                log.info("status of %s: %s", peer, exc)

        async with trio.open_nursery() as nursery:
            for peer in self.peers():
                if peer not in known:
                    nursery.start_soon(ask, peer)
        return statuses
