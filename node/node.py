"""A running node: the composition root that wires its parts together and owns none of their work.

- `node.p2p.network.Network` owns libp2p (host, streams, pubsub, peers, bans);
- `node.intake.BlockIntake` is the one way blocks come in (gossip, sync, the forger) and reacts to a
  new head once;
- `node.p2p.syncer.Syncer` catches up with the best claimed head;
- `node.mempool.Mempool` holds pending documents (from gossip and the client API);
- `node.forger.Forger` writes blocks when the node holds a member's key;
- `node.api` serves clients.
"""

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from node.api.app import build_app
from node.api.context import ApiContext
from node.api.metrics import NodeMetrics
from node.api.serve import serve_api
from node.chain import AddResult, ChainManager, Outcome
from node.clock import Clock
from node.datadir import open_store
from node.errors import DiskFull
from node.failures import describe_exception, listen_failure
from node.forger import DEFAULT_TURN_SPACING, Forger
from node.intake import BlockIntake
from node.mempool import Admission, AdmissionResult, Mempool, NotReady, Origin
from node.p2p.gossip import Received
from node.p2p.network import Network
from node.p2p.sync import answer
from node.p2p.syncer import SyncAborted, Syncer
from protocol.documents import Block
from protocol.documents.pending import PendingDocument
from protocol.errors import ProtocolError, RuleViolation
from protocol.keys import Keypair

log = logging.getLogger("june.node")

#: Peers' heads are polled this often; gossip brings new blocks sooner, and a gossiped block that
#: does not fit our head (a gap, another branch) or a new connection starts a round at once.
SYNC_INTERVAL = 2.0
#: Rounds started at once, in a row, after aborted ones; then the interval applies again.
MAX_QUICK_RETRIES = 3


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
        announce: Sequence[str] | None = None,
    ) -> None:
        self.datadir = datadir
        self.clock = clock or Clock()
        self.config, self.store = open_store(datadir)
        self.chain = ChainManager(self.store, genesis_hash=self.config.genesis)
        self.mempool = Mempool(self.store)
        self.intake = BlockIntake(self.chain, self.clock)
        self.network = Network(
            datadir,
            genesis=self.config.genesis,
            currency=self.config.currency,
            listen=listen or self.config.listen,
            bootstrap=self.config.bootstrap if bootstrap is None else bootstrap,
            answer=lambda request: answer(self.chain, request, self.network.advertised),
            block_check=self.intake.refusal,
            announce=self.config.announce if announce is None else announce,
        )
        self.intake.blame = self.network.penalise
        self.intake.on_head_change.append(self._head_changed)
        self.intake.on_missing.append(self.sync_soon)
        self.metrics = NodeMetrics()  # this node's own registry (several nodes share a process in tests)
        self.intake.on_taken.append(self.metrics.block_taken)
        self.listen = listen or self.config.listen
        self.network.on_connected.append(self.sync_soon)
        self.syncer = Syncer(self.network, self.intake)
        self.forger = (
            None
            if forger is None
            else Forger(
                forger,
                self.store,
                self.chain,
                self.mempool,
                self.clock,
                self.forged,
                cpu_share=cpu_share,
                turn_spacing=turn_spacing,
            )
        )
        if self.forger is not None:
            self.forger.on_attempt.append(self.metrics.forge_attempted)
            self.forger.on_forged.append(self.metrics.block_forged)
        self.api_bind = self.config.api if api is None else api
        self.api_url = ""  # once running, if the API is served
        self._sync_now = trio.Event()
        self._stopped = trio.Event()
        self._seen_peers: set[str] = set()  # as of the last sync tick, for the log
        # documents that waited for their time and are now valid, to be gossiped
        self._ready, self._ready_inbox = trio.open_memory_channel[PendingDocument](1000)

    @property
    def address(self) -> str:
        """The node's full address, `/ip4/…/tcp/…/p2p/<peer id>` (once running)."""
        return self.network.address

    def addresses(self) -> list[str]:
        """Every address peers may dial this node at (see `Network.addresses`)."""
        return self.network.addresses()

    def head(self) -> tuple[int, bytes, bytes] | None:
        return self.store.head_pointer()

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until `stop()`; the network stops last, on its own (see `Network.run`)."""
        async with trio.open_nursery() as outer:
            await outer.start(self.network.run)
            try:
                self._check_listening()
                await self._serve(task_status)
            finally:
                self.network.stop()

    async def _serve(self, task_status: Any) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._sync_loop)
            nursery.start_soon(self._receive_blocks)
            nursery.start_soon(self._receive_documents)
            nursery.start_soon(self._relay_ready)
            if self.forger is not None:
                nursery.start_soon(self.forger.run)
            if self.api_bind:
                try:
                    urls = await nursery.start(serve_api, build_app(self.api_context()), self.api_bind)
                except Exception as exc:  # a busy port: one line for the operator, not a traceback
                    raise listen_failure("client API", self.api_bind, exc) from exc
                self.api_url = urls[0]
                log.info("client API on %s", self.api_url)
            log.info("node %s listening on %s", self.network.peer_id, self.address)
            task_status.started()
            await self._stopped.wait()
            nursery.cancel_scope.cancel()

    def _check_listening(self) -> None:
        """py-libp2p logs a listener it cannot open and goes on without it: a node that cannot be
        reached is stopped here with the reason (a busy port, found by a test bind)."""
        try:
            address = self.network.address
        except IndexError:  # no listen address at all
            address = ""
        if not address:
            raise listen_failure("p2p listener", self.listen)

    def stop(self) -> None:
        self._stopped.set()

    def close(self) -> None:
        self.store.close()

    def api_context(self) -> ApiContext:
        return ApiContext(
            store=self.store,
            chain=self.chain,
            mempool=self.mempool,
            submit=self.submit,
            peers=lambda: len(self.peers()),
            address=lambda: self.address,
            peer_table=self.network.peer_table,
            sync_progress=lambda: (self.syncer.progress.applied, self.syncer.progress.target),
            metrics=self.metrics,
        )

    async def connect(self, address: str) -> None:
        """Dial `address` now and remember it in the peer book."""
        await self.network.connect(address)

    def peers(self) -> list[Any]:
        return self.network.peers()

    def sync_soon(self) -> None:
        """Start a sync round now rather than at the next tick."""
        self._sync_now.set()

    # --- blocks -------------------------------------------------------------------------------

    async def forged(self, block: Block) -> AddResult:
        """A block this node forged: taken like any other, then gossiped if it became the head."""
        result = await self.intake.receive(block)
        log.info("forged block %d: %s", block.number, result.outcome)
        if result.outcome in (Outcome.APPLIED, Outcome.SWITCHED):
            await self.network.publish_block(block)
        return result

    def _head_changed(self) -> None:
        self.mempool.revalidate()
        for document in self.mempool.take_ready():  # peers refused it while it had to wait
            try:
                self._ready.send_nowait(document)
            except trio.WouldBlock:  # a thousand already queued: peers learn it from our blocks
                log.info("not relaying a document that stopped waiting: the queue is full")
        if self.forger is not None:
            self.forger.head_changed()

    async def _relay_ready(self) -> None:
        async for document in self._ready_inbox:
            await self.network.publish_document(document)

    async def _receive_blocks(self) -> None:
        async for received in self.network.blocks:
            await self.intake.receive(received.item, received.origin)

    # --- pending documents --------------------------------------------------------------------

    async def submit(self, document: PendingDocument) -> AdmissionResult:
        """Admit a client's pending document and gossip it (raises `RuleViolation`, `NotReady`); a
        document that must wait for its time is gossiped when it becomes valid."""
        result = self.mempool.add(document, origin=Origin.CLIENT)
        if result.admission is Admission.ACCEPTED:
            await self.network.publish_document(document)
        return result

    async def _receive_documents(self) -> None:
        async for received in self.network.documents:
            self._take_document(received)
            await trio.sleep(0)

    def _take_document(self, received: Received) -> None:
        try:
            self.mempool.add(received.item, durable=False, origin=Origin.RELAY)
        except RuleViolation as exc:  # spent meanwhile, or not yet valid here: not a fault
            log.info("pending document refused: %s", exc)
        except (ProtocolError, NotReady) as exc:
            log.info("pending document not taken: %s", exc)
        except DiskFull:  # logged once by the store; the peer that sent it keeps it
            log.debug("pending document not taken: the disk is full")

    # --- sync ---------------------------------------------------------------------------------

    def _log_peer_changes(self) -> None:
        """Say at INFO (`-v`) which peers connected or were lost since the last sync tick: what an
        operator watches first when a node does not follow the chain."""
        now = {str(peer) for peer in self.peers()}
        for peer in sorted(now - self._seen_peers):
            log.info("peer connected: %s (%d peers)", peer, len(now))
        for peer in sorted(self._seen_peers - now):
            log.info("peer lost: %s (%d peers)", peer, len(now))
        self._seen_peers = now

    async def _sync_loop(self) -> None:
        retries = 0  # rounds started at once after an aborted one (a liar or a silent peer
        # stopped it: the next round follows another peer)
        while True:
            self._log_peer_changes()
            await self.intake.receive_due()
            try:
                await self.syncer.catch_up(await self.network.statuses())
                retries = 0
            except SyncAborted as exc:
                log.info("sync round stopped: %s", describe_exception(exc))
                retries += 1
                if retries <= MAX_QUICK_RETRIES:
                    self.sync_soon()
            except Exception as exc:  # a bug: logged in full, and the next round starts over
                log.exception("sync round failed: %s", describe_exception(exc))
            with trio.move_on_after(SYNC_INTERVAL):
                await self._sync_now.wait()
            self._sync_now = trio.Event()
