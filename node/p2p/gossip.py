"""GossipSub announcements: new blocks and pending documents, checked before they are relayed.

One topic per kind and per currency (the genesis hash is in the name, so two currencies never share
a mesh). A validator runs before a message is delivered or relayed; it answers from cheap checks
(size, canonical decoding, signatures, a header that can fit our chain) and never raises (an
exception in a validator takes the whole host down, libp2p-notes §3). Malformed or badly signed
data is a provable fault of the forwarder, reported to the node, which bans repeat offenders.

Configured after libp2p-notes: heartbeat every second, spam protection off (it drops our own
publishes), content message ids, a short validation cache (a rejection for "unknown parent" must
not stick), services started outside `host.run()`.
"""

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.tools.anyio_service import background_trio_service

from protocol.documents import Block
from protocol.documents.pending import MAX_PENDING_SIZE, PendingDocument, decode_pending
from protocol.errors import ProtocolError

log = logging.getLogger("june.gossip")

GOSSIP_PROTOCOLS = [TProtocol("/meshsub/1.1.0"), TProtocol("/meshsub/1.0.0")]
#: Blocks bigger than this are not gossiped (a gossip RPC is capped at 1 MiB); peers fetch them by sync.
MAX_GOSSIP_BLOCK = 512 * 1024

Fault = Callable[[Any, str], Awaitable[None]]
BlockCheck = Callable[[Block], str | None]


def topics(genesis: bytes) -> tuple[str, str]:
    """The block topic and the pending-document topic of the currency whose block 0 is `genesis`."""
    tag = genesis.hex()[:16]
    return f"june/{tag}/blocks/1", f"june/{tag}/documents/1"


@dataclass(frozen=True)
class Received:
    """A message that passed its validator: the decoded item and the peer that wrote it first."""

    item: Any
    origin: ID


class Gossip:
    """The pubsub side of a node: publish, and receive what validators let through."""

    def __init__(
        self, host: Any, *, genesis: bytes, currency: str, fault: Fault, header_check: BlockCheck
    ) -> None:
        self.currency = currency
        self.blocks_topic, self.documents_topic = topics(genesis)
        self._fault = fault
        self._header_check = header_check
        self.router = GossipSub(
            protocols=GOSSIP_PROTOCOLS,
            degree=6,
            degree_low=4,
            degree_high=12,
            heartbeat_interval=1,
            spam_protection_enabled=False,
        )
        self.pubsub = Pubsub(
            host,
            self.router,
            msg_id_constructor=lambda message: hashlib.sha256(message.data).digest(),
            validation_cache_ttl=1,
            validation_timeout=5.0,
            max_inbound_rpc_size=1 << 20,
        )
        self.blocks: trio.MemorySendChannel[Received]
        self.blocks, self.block_inbox = trio.open_memory_channel[Received](256)
        self.documents, self.document_inbox = trio.open_memory_channel[Received](1024)
        # validators are synchronous: they hand faults to `_report_faults`, which awaits the node
        self._faults, self._fault_inbox = trio.open_memory_channel[tuple[Any, str]](1024)

    @asynccontextmanager
    async def services(self) -> AsyncIterator["Gossip"]:
        """Run the pubsub services; enter this *before* `host.run()` (libp2p-notes §2)."""
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(background_trio_service(self.pubsub))
            await stack.enter_async_context(background_trio_service(self.router))
            yield self

    async def start(self, nursery: trio.Nursery) -> None:
        """Subscribe to both topics (inside `host.run()`), and forward what arrives to the inboxes."""
        await self.pubsub.wait_until_ready()
        self.pubsub.set_topic_validator(self.blocks_topic, self._validate_block, False)
        self.pubsub.set_topic_validator(self.documents_topic, self._validate_document, False)
        for topic, channel, decode in (
            (self.blocks_topic, self.blocks, self._decode_block),
            (self.documents_topic, self.documents, self._decode_document),
        ):
            subscription = await self.pubsub.subscribe(topic)
            nursery.start_soon(self._pump, subscription, channel, decode)
        nursery.start_soon(self._report_faults)

    async def publish_block(self, block: Block) -> None:
        data = block.to_bytes()
        if len(data) <= MAX_GOSSIP_BLOCK:
            await self._publish(self.blocks_topic, data)

    async def publish_document(self, document: PendingDocument) -> None:
        await self._publish(self.documents_topic, document.to_bytes())

    async def _publish(self, topic: str, data: bytes) -> None:
        try:
            await self.pubsub.publish(topic, data)
        except Exception as exc:  # no peers yet, or a closing host: sync catches up later
            log.info("publishing on %s: %s", topic, exc)

    def _decode_block(self, data: bytes) -> Block:
        if len(data) > MAX_GOSSIP_BLOCK:
            raise ProtocolError(f"a gossiped block of {len(data)} bytes exceeds {MAX_GOSSIP_BLOCK}")
        block = Block.from_bytes(data, currency=self.currency)
        block.verify()
        return block

    def _decode_document(self, data: bytes) -> PendingDocument:
        if len(data) > MAX_PENDING_SIZE:
            raise ProtocolError(f"a gossiped document of {len(data)} bytes exceeds {MAX_PENDING_SIZE}")
        document = decode_pending(data, currency=self.currency)
        document.verify()
        return document

    def _validate_block(self, forwarder: ID, message: Any) -> bool:
        try:
            block = self._decode_block(message.data)
        except ProtocolError as exc:
            self._note_fault(forwarder, f"gossiped a bad block: {exc}")
            return False
        except Exception as exc:  # never let a validator raise (libp2p-notes §3)
            log.warning("block validator: %r", exc)
            return False
        try:
            refusal = self._header_check(block)
        except Exception as exc:
            log.warning("block header check: %r", exc)
            return False
        if refusal is not None:
            log.info("not relaying block %d from %s: %s", block.number, forwarder, refusal)
            return False
        return True

    def _validate_document(self, forwarder: ID, message: Any) -> bool:
        try:
            self._decode_document(message.data)
        except ProtocolError as exc:
            self._note_fault(forwarder, f"gossiped a bad document: {exc}")
            return False
        except Exception as exc:
            log.warning("document validator: %r", exc)
            return False
        return True

    async def _pump(self, subscription: Any, channel: trio.MemorySendChannel[Received], decode: Any) -> None:
        while True:
            message = await subscription.get()
            try:
                item = decode(message.data)
            except Exception:  # our own validator let it through, so this cannot happen; stay up anyway
                continue
            try:
                channel.send_nowait(Received(item, ID(message.from_id)))
            except trio.WouldBlock:
                log.info("gossip inbox full: dropping one message (sync will catch up)")

    def _note_fault(self, peer: Any, reason: str) -> None:
        with contextlib.suppress(trio.WouldBlock):  # a flood beyond 1,024 pending faults: bans come anyway
            self._faults.send_nowait((peer, reason))

    async def _report_faults(self) -> None:
        async for peer, reason in self._fault_inbox:
            await self._fault(peer, reason)
