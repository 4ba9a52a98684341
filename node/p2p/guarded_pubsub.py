"""Pubsub that one peer's bytes cannot take down (libp2p-notes P20).

The sharp edge. py-libp2p 0.8.1 reads each inbound `/meshsub/1.x.0` stream in
`Pubsub.continuously_read_stream`, which catches only libp2p's own stream and I/O errors
(`stream_handler` adds `ParseError` and `IncompleteReadError`). Anything else raised while a peer's
RPC is parsed or handled, the router's `handle_rpc` included, escapes into the swarm and ends the
pubsub service, the swarm and `host.run()`: the whole node. Each published message is then checked
in `Pubsub.push_msg`, a task of the pubsub service, where an exception stops the service too.

Measured in-process on 127.0.0.1 (tests/node/test_guarded_pubsub.py; five runs each, the same on
`/meshsub/1.1.0` and `/meshsub/1.0.0`):
- before, each of these ends the victim's pubsub service 2-5 ms after it is written, and its
  `host.run()` with it:
  - the 5 bytes `04 ff ff ff ff` (`DecodeError`), and so did 178 of 200 fuzzed frames;
  - a GRAFT whose topic is not UTF-8 (`UnicodeDecodeError` when the PRUNE answer is built);
  - a publish message whose `from_id` holds no key (a sha256 peer id) and whose `key` does not
    decode (`DecodeError`, `ValueError`, `MissingDeserializerError`, by key type claimed);
  - a publish message with an Ed25519 `from_id` and a second topic that is not UTF-8
    (`UnicodeDecodeError` while the signed payload is rebuilt). No valid signature is needed.
- already harmless upstream (stream reset, or input ignored, and nobody told): a length prefix above
  `max_inbound_rpc_size`, a varint longer than 10 bytes, a garbage sender record or `from_id`, a
  bad signature, 20,000 topics in one message, 500 kB topics and seqnos, 5,001 subscriptions in one
  RPC, IHAVE/IWANT/IDONTWANT with 20,000 ids, 5,000 GRAFTs, a PRUNE with a 2^64-1 s back-off or
  garbage PX records, topics that are not UTF-8 in subscriptions, IHAVE and PRUNE; two heartbeats
  over the state these leave behind run fine, so the router needs no guard of its own.
- after (`GuardedPubsub`): the offending stream alone is reset (the peer's other streams and its
  connection stay), the peer is forgotten by pubsub as upstream does for a dead stream, `on_offence`
  is called once within 1-4 ms (MALFORMED, or OVERSIZED for a frame above the limit), and the
  host, the pubsub service and the router go on: a message the victim publishes next reaches an
  honest peer 2-7 ms later. A publish message that breaks the checks is dropped and reported as
  MALFORMED; its stream stays up, since the RPC itself decoded.

Not covered here: a peer that sends half a varint and falls silent pins its reader task (P19;
pubsub streams are long-lived and idle between messages, so no read timeout fits them). Read in
the source, not measured: a PRUNE with PX records makes the node dial the peers they name whatever
`do_px` says (`accept_px_threshold` is -inf under neutral scoring).
"""

import contextlib
import logging
from collections.abc import Callable
from typing import Any, cast

from libp2p.abc import INetStream
from libp2p.io.exceptions import MessageTooLarge
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub

from node.p2p.misbehaviour import Offence

log = logging.getLogger("june.gossip")

#: Told of a peer whose pubsub bytes could not be handled; synchronous, and never allowed to raise.
OffenceReport = Callable[[ID, Offence, str], None]

#: Longest exception text kept in an offence detail.
_DETAIL_CHARS = 160


class _ResetWatch:
    """A stream as the upstream read loop sees it, noting whether that loop reset it.

    In 0.8.1 the loop resets its stream itself only when a frame's length prefix exceeds
    `max_inbound_rpc_size` (it then returns normally); this is how an oversized frame is told
    apart from a peer that simply went away. Everything else is the real stream's.
    """

    def __init__(self, stream: INetStream) -> None:
        self._stream = stream
        self.reset_by_reader = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    async def reset(self) -> None:
        self.reset_by_reader = True
        await self._stream.reset()


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


class GuardedPubsub(Pubsub):
    """`Pubsub` whose read loop and message checks turn a peer's bad bytes into an offence report.

    Takes the arguments of `libp2p.pubsub.pubsub.Pubsub`, plus `on_offence(peer, offence, detail)`.
    """

    def __init__(self, *args: Any, on_offence: OffenceReport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_offence = on_offence

    async def continuously_read_stream(self, stream: INetStream) -> None:
        peer_id = stream.muxed_conn.peer_id
        watched = _ResetWatch(stream)
        try:
            await super().continuously_read_stream(cast(INetStream, watched))
        except Exception as exc:
            # Upstream lets everything but its own I/O errors escape into the swarm (P20). Do what
            # its stream_handler does for a dead stream (reset it, forget the peer), here.
            with contextlib.suppress(Exception):
                await stream.reset()
            self._handle_dead_peer(peer_id)
            offence = Offence.OVERSIZED if isinstance(exc, MessageTooLarge) else Offence.MALFORMED
            self._report(peer_id, offence, f"pubsub stream: {_describe(exc)}")
            return
        if watched.reset_by_reader:  # upstream already reset the stream and forgot the peer
            self._report(
                peer_id, Offence.OVERSIZED, f"a pubsub RPC frame above {self.max_inbound_rpc_size} bytes"
            )

    async def push_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> None:
        if msg_forwarder == self.my_id:  # our own publish: its caller hears of any error
            await super().push_msg(msg_forwarder, msg)
            return
        try:
            await super().push_msg(msg_forwarder, msg)
        except Exception as exc:
            # a task of the pubsub service: an escaping exception would stop the service
            self._report(msg_forwarder, Offence.MALFORMED, f"published message: {_describe(exc)}")

    def _report(self, peer_id: ID, offence: Offence, detail: str) -> None:
        if not self.manager.is_running:  # shutting down: errors are ours, not the peer's
            return
        log.debug("pubsub peer %s: %s (%s)", peer_id, offence.words, detail)
        try:
            self._on_offence(peer_id, offence, detail)
        except Exception as exc:  # the callback must never raise into libp2p
            log.warning("on_offence callback failed: %r", exc)


class GuardedGossipSub(GossipSub):
    """GossipSub that never dials the peers a PRUNE's peer exchange names.

    With neutral scoring (`accept_px_threshold` is −inf), py-libp2p 0.8.1 dials every peer listed
    in a PRUNE's PX records, even when the node itself sets `do_px=False`: any peer could point the
    node at tarpits, a dial amplifier. June learns peers only through its own peer book
    (`node/p2p/peers.py`: few addresses per answer, trusted after a dial, rate-limited)."""

    async def _do_px(self, px_peers: list[Any]) -> None:
        if px_peers:
            log.info("ignoring %d peer-exchange records in a PRUNE", len(px_peers))
