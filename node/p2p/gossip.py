"""GossipSub announcements: new blocks and pending documents, checked before they are relayed.

One topic per kind and per currency (the genesis hash is in the name, so two currencies never share
a mesh). A validator runs before a message is delivered or relayed; it answers from cheap checks
(size, canonical decoding, signatures, a header that can fit our chain) and never raises (an
exception in a validator takes the whole host down, libp2p-notes §3). Malformed or badly signed
data is a provable offence of the forwarder, reported to the network's misbehaviour policy. A
message is decoded and its signatures checked once, in the validator; the decoded item is handed to
the inbox as is. Each other publisher may have only so many pending documents a second relayed by
us (`RELAY_RATE`): beyond it, messages are dropped and the flood is counted against the publisher.

Configured after libp2p-notes: heartbeat every second, spam protection off (it drops our own
publishes), content message ids, a short validation cache (a rejection for "unknown parent" must
not stick), services started outside `host.run()`.
"""

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.tools.anyio_service import background_trio_service

from node.failures import describe_exception
from node.p2p.guarded_pubsub import GuardedGossipSub, GuardedPubsub
from node.p2p.misbehaviour import Offence
from protocol.documents import Block
from protocol.documents.pending import MAX_PENDING_SIZE, PendingDocument, decode_pending
from protocol.errors import InvalidSignature, ProtocolError, TooLarge

log = logging.getLogger("june.gossip")

GOSSIP_PROTOCOLS = [TProtocol("/meshsub/1.1.0"), TProtocol("/meshsub/1.0.0")]
#: Blocks bigger than this are not gossiped (a gossip RPC is capped at 1 MiB); peers fetch them by sync.
MAX_GOSSIP_BLOCK = 512 * 1024

#: Pending documents one forwarder may relay per second, and in a burst.
RELAY_RATE = 20.0
RELAY_BURST = 200.0
#: Validated items waiting for their subscription to deliver them (decoded once, handed on).
MAX_VALIDATED = 4096

Penalise = Callable[[Any, Offence, str], None]
BlockCheck = Callable[[Block], str | None]


def topics(genesis: bytes) -> tuple[str, str]:
    """The block topic and the pending-document topic of the currency whose block 0 is `genesis`."""
    tag = genesis.hex()[:16]
    return f"june/{tag}/blocks/1", f"june/{tag}/documents/1"


class Oversized(ProtocolError):
    """A gossiped message larger than its kind allows."""


@dataclass(frozen=True)
class Received:
    """A message that passed its validator: the decoded item and the peer that wrote it first."""

    item: Any
    origin: ID


class Gossip:
    """The pubsub side of a node: publish, and receive what validators let through."""

    def __init__(
        self, host: Any, *, genesis: bytes, currency: str, penalise: Penalise, header_check: BlockCheck
    ) -> None:
        self.currency = currency
        self.blocks_topic, self.documents_topic = topics(genesis)
        self._penalise = penalise
        self._me = host.get_id()
        self._validated: dict[bytes, Any] = {}  # message id -> decoded item, until delivered
        self._relay_budget: dict[str, tuple[float, float]] = {}  # forwarder -> (tokens, at)
        self._header_check = header_check
        self.router = GuardedGossipSub(
            protocols=GOSSIP_PROTOCOLS,
            degree=6,
            degree_low=4,
            degree_high=12,
            heartbeat_interval=1,
            spam_protection_enabled=False,
        )
        self.pubsub = GuardedPubsub(
            host,
            self.router,
            msg_id_constructor=_message_id,
            validation_cache_ttl=1,
            validation_timeout=5.0,
            max_inbound_rpc_size=1 << 20,
            on_offence=penalise,
        )
        self.blocks: trio.MemorySendChannel[Received]
        self.blocks, self.block_inbox = trio.open_memory_channel[Received](256)
        self.documents, self.document_inbox = trio.open_memory_channel[Received](1024)

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

    def blacklist(self, peer: Any) -> None:
        """Drop `peer`'s messages and those it originated from now on."""
        self.pubsub.add_to_blacklist(peer)

    def subscribed(self, peer: str, kind: str) -> bool:
        topic = self.blocks_topic if kind == "blocks" else self.documents_topic
        return peer in {str(p) for p in self.pubsub.peer_topics.get(topic, set())}

    def pardon(self, peer: Any) -> None:
        self.pubsub.remove_from_blacklist(peer)

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
            log.info("publishing on %s: %s", topic, describe_exception(exc))

    def _decode_block(self, data: bytes) -> Block:
        if len(data) > MAX_GOSSIP_BLOCK:
            raise Oversized(f"a gossiped block of {len(data)} bytes exceeds {MAX_GOSSIP_BLOCK}")
        block = Block.from_bytes(data, currency=self.currency)
        block.verify()
        return block

    def _decode_document(self, data: bytes) -> PendingDocument:
        if len(data) > MAX_PENDING_SIZE:
            raise Oversized(f"a gossiped document of {len(data)} bytes exceeds {MAX_PENDING_SIZE}")
        document = decode_pending(data, currency=self.currency)
        document.verify()
        return document

    def _validate_block(self, forwarder: ID, message: Any) -> bool:
        block = self._validate(forwarder, message, self._decode_block)
        if block is None:
            return False
        try:
            refusal = self._header_check(block)
        except Exception as exc:  # never let a validator raise (libp2p-notes §3)
            log.exception("block header check failed: %s", describe_exception(exc))
            return False
        if refusal is not None:
            log.info("not relaying block %d from %s: %s", block.number, forwarder, refusal)
            self._validated.pop(_message_id(message), None)
            return False
        return True

    def _validate_document(self, forwarder: ID, message: Any) -> bool:
        try:
            origin = ID(message.from_id)  # authenticated: pubsub checks the publisher's signature
        except Exception:
            origin = forwarder
        if origin != self._me and not self._budget_allows(origin):
            self._penalise(origin, Offence.FLOOD, "publishes pending documents too fast")
            return False
        return self._validate(forwarder, message, self._decode_document) is not None

    def _validate(self, forwarder: ID, message: Any, decode: Callable[[bytes], Any]) -> Any:
        """The decoded item, kept for delivery; None (and the forwarder's offence) if it is bad."""
        try:
            item = decode(message.data)
        except InvalidSignature as exc:
            self._penalise(forwarder, Offence.BAD_SIGNATURE, str(exc))
            return None
        except ProtocolError as exc:
            offence = Offence.OVERSIZED if isinstance(exc, Oversized | TooLarge) else Offence.MALFORMED
            self._penalise(forwarder, offence, f"gossip: {exc}")
            return None
        except Exception as exc:  # never let a validator raise (libp2p-notes §3)
            log.exception("gossip validator failed: %s", describe_exception(exc))
            return None
        if len(self._validated) >= MAX_VALIDATED:  # delivered items leave; these never will
            self._validated.pop(next(iter(self._validated)))
        self._validated[_message_id(message)] = item
        return item

    def _budget_allows(self, origin: ID) -> bool:
        """A token bucket per publishing peer (bounded: the table is reset when it grows large).
        Per publisher, not per forwarder: an honest relay forwards valid documents whoever wrote
        them, so a flood must cost its author, never the relays it crossed."""
        now, key = time.monotonic(), str(origin)
        tokens, at = self._relay_budget.get(key, (RELAY_BURST, now))
        tokens = min(RELAY_BURST, tokens + (now - at) * RELAY_RATE)
        if len(self._relay_budget) > 4096:
            self._relay_budget.clear()
        if tokens < 1:
            self._relay_budget[key] = (tokens, now)
            return False
        self._relay_budget[key] = (tokens - 1, now)
        return True

    async def _pump(self, subscription: Any, channel: trio.MemorySendChannel[Received], decode: Any) -> None:
        while True:
            message = await subscription.get()
            item = self._validated.pop(_message_id(message), None)
            if item is None:  # our own publication, or one validated long ago: decode it here
                try:
                    item = decode(message.data)
                except Exception:  # it passed a validator once; stay up anyway
                    continue
            try:
                channel.send_nowait(Received(item, ID(message.from_id)))
            except trio.WouldBlock:
                log.info("gossip inbox full: dropping one message (sync will catch up)")


def _message_id(message: Any) -> bytes:
    return hashlib.sha256(message.data).digest()
