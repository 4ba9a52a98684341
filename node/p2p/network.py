"""The one owner of a node's network: its libp2p host, streams, pubsub, peers and bans.

Nothing else in the node touches libp2p. The rest of the node sees a small interface:
- `ask(peer, request)`: one request to one peer, bounded in size and time; the answer, or a typed
  `PeerFailed` (the peer's offence, if any, is already counted);
- `statuses()`: the heads peers *claim* (claims, not facts: the syncer verifies as it downloads);
- `publish_block`, `publish_document`, and the `blocks` / `documents` inboxes of gossip that passed
  its validators, each item with the peer that sent it;
- `penalise(peer, offence, detail)`: every fault site reports what happened; the misbehaviour
  policy (`node/p2p/misbehaviour.py`) decides the score and the ban, and this module carries the ban
  out (pubsub blacklist, disconnection, peer book and peerstore forgotten, re-dials refused);
- `connect(address)`, `peers()`, `address`.

Every stream handler is guarded: a frame is capped before allocation, every read has a deadline,
undecodable or oversized input is the sender's offence, and an unexpected error while answering
is logged and ends that one stream, never the node. Inbound connections are capped; py-libp2p
closes connections whose security handshake does not finish within its upgrade timeout.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import multiaddr
import trio
from libp2p.abc import INotifee
from libp2p.custom_types import TProtocol
from libp2p.identity.identify.identify import AGENT_VERSION as IDENTIFY_AGENT
from libp2p.identity.identify.identify import ID as IDENTIFY_PROTOCOL
from libp2p.identity.identify.identify import PROTOCOL_VERSION as IDENTIFY_VERSION
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.io.exceptions import MessageTooLarge
from libp2p.io.msgio import VarIntLengthMsgReadWriter
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.peer.peerstore import env_to_send_in_RPC
from libp2p.utils import encode_uvarint

from node.p2p.gossip import Gossip
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.messages import (
    MAX_FRAME,
    PEERS,
    STATUS,
    PeerError,
    Request,
    Status,
    decode_request,
    decode_response,
    encode_error,
    encode_peers,
)
from node.p2p.misbehaviour import Misbehaviour, Offence
from node.p2p.peers import (
    PeerBook,
    dialable,
    expand_unspecified,
    is_loopback_ip,
    local_ipv4_addresses,
    peer_id_of,
    shareable,
)
from node.p2p.performance import Performance
from protocol.crypto import Hash
from protocol.documents import Block
from protocol.documents.pending import PendingDocument
from protocol.errors import DecodeError

log = logging.getLogger("june.p2p")

#: Every request to a peer must be answered within this (a block range is at most one 1 MB frame).
REQUEST_TIMEOUT = 10.0
#: A status is a few dozen bytes: a peer that cannot say its head in this time is not worth waiting for.
STATUS_TIMEOUT = 3.0
#: How long a round waits for a first head, then for the slower peers once one has told its head;
#: later answers serve the next round while they are fresh.
FIRST_ANSWER_WAIT = 0.5
STRAGGLER_WAIT = 0.25
CLAIM_TTL = 5.0
#: A peer's request must reach us within this once its stream is open.
SERVE_TIMEOUT = 10.0
RECONNECT_INTERVAL = 1.0
PEER_EXCHANGE_INTERVAL = 5.0
CONNECT_ATTEMPTS = 2
CONNECT_TIMEOUT = 10.0
#: Peers this node dials on its own; more may dial in, up to `MAX_INBOUND`.
MAX_OUTBOUND = 32
MAX_INBOUND = 64
#: Requests from peers served at once; beyond it a request waits (its own deadline still runs).
MAX_SERVING = 16
#: Most of its own addresses a node puts in a `peers` answer (one per interface, or announced).
MAX_OWN_ADVERTISED = 4

#: Answered by every June node whatever its currency, so that a peer of another currency is told
#: apart (and dropped) rather than merely failing to negotiate the sync protocol.
STATUS_PROTOCOL = TProtocol("/june/status/1")

Answer = Callable[[Request], bytes]


def sync_protocol(genesis: Hash) -> TProtocol:
    return TProtocol(f"/june/{genesis.hex()[:16]}/sync/1")


class PeerFailed(Exception):
    """A request to a peer came to nothing; its offence, if it committed one, is already counted."""


class PeerSilent(PeerFailed):
    """The peer did not answer in time."""


class PeerRefused(PeerFailed):
    """The peer answered with an error."""


class ForeignPeer(PeerFailed):
    """A peer of another currency (another block 0); banned on the spot."""


class _Gate(INotifee):
    """Closes connections from banned peers, and inbound connections beyond the cap, as they open."""

    def __init__(self, network: "Network") -> None:
        self.network = network
        self.inbound: set[str] = set()

    async def connected(self, swarm: Any, connection: Any) -> None:
        peer = connection.muxed_conn.peer_id
        if self.network.misbehaviour.is_banned(peer):
            await swarm.close_peer(peer)
            return
        if getattr(getattr(connection, "direction", None), "name", "") == "INBOUND":
            if len(self.inbound) >= MAX_INBOUND and str(peer) not in self.inbound:
                log.info("refusing inbound connection from %s: %d inbound peers already", peer, MAX_INBOUND)
                await swarm.close_peer(peer)
                return
            self.inbound.add(str(peer))

    async def disconnected(self, swarm: Any, connection: Any) -> None:
        peer = connection.muxed_conn.peer_id
        if not swarm.get_connections(peer):
            self.inbound.discard(str(peer))

    async def opened_stream(self, swarm: Any, stream: Any) -> None:
        return None

    async def closed_stream(self, swarm: Any, stream: Any) -> None:
        return None

    async def listen(self, swarm: Any, address: Any) -> None:
        return None

    async def listen_close(self, swarm: Any, address: Any) -> None:
        return None


@dataclass(frozen=True)
class PeerRow:
    """One line of `Network.peer_table`: what an operator asks about a peer (`juned peers`)."""

    id: str
    address: str  # where we reach it, or where it came from; "" if unknown
    connected: bool
    head: int | None  # the head number it claimed lately (a claim, not a fact)
    latency_ms: float | None  # moving average of its answer times
    score: float  # misbehaviour score (banned at `misbehaviour.BAN_SCORE`)
    banned_until: float | None  # Unix time its ban ends, if banned
    ban_reason: str | None


class Network:
    """A node's libp2p side, for one currency (its block 0 hash `genesis`)."""

    def __init__(
        self,
        datadir: Path,
        *,
        genesis: Hash,
        currency: str,
        listen: str,
        bootstrap: Sequence[str],
        answer: Answer,
        block_check: Callable[[Block], str | None],
        announce: Sequence[str] = (),
    ) -> None:
        self.genesis = genesis
        self.misbehaviour = Misbehaviour()
        self.performance = Performance()
        self._announce = [multiaddr.Multiaddr(_without_peer_id(a)) for a in announce]
        self._interfaces = local_ipv4_addresses()
        self._host = make_host(load_or_create_identity(datadir), addrs_factory=self._reported_addresses)
        self._listen = multiaddr.Multiaddr(listen)
        self._protocol = sync_protocol(genesis)
        self._answer = answer
        self.peer_book = PeerBook(datadir, me=str(self._host.get_id()), bootstrap=bootstrap)
        self._gossip = Gossip(
            self._host, genesis=genesis, currency=currency, penalise=self.penalise, header_check=block_check
        )
        self.blocks = self._gossip.block_inbox
        self.documents = self._gossip.document_inbox
        self._gate = _Gate(self)
        self._host.get_network().register_notifee(self._gate)
        self._bans, self._ban_inbox = trio.open_memory_channel[Any](1024)
        self._serving = trio.CapacityLimiter(MAX_SERVING)
        self.on_connected: list[Callable[[], None]] = []  # told each time we dial a peer
        self._nursery: trio.Nursery | None = None  # background requests, while running
        self._stopping = trio.Event()
        self._claims: dict[str, tuple[Any, Status, float]] = {}  # peer -> (id, status, when)
        self._asking: set[str] = set()  # peers whose status is being asked

    # --- life -----------------------------------------------------------------------------------

    @property
    def peer_id(self) -> str:
        return str(self._host.get_id())

    @property
    def address(self) -> str:
        """The node's full address, `/ip4/…/tcp/…/p2p/<peer id>` (once running)."""
        return str(self._host.get_addrs()[0])

    def addresses(self) -> list[str]:
        """Every address a peer may dial this node at, `/…/p2p/<peer id>` (once running): the
        `--announce` ones if any, else the listen address with `0.0.0.0` replaced by each of the
        machine's IPv4s (loopback last). What `juned run` prints for the operator to hand out."""
        return [str(a) for a in self._host.get_addrs() if dialable(str(a))]

    def _reported_addresses(self, candidates: list[Any]) -> list[Any]:
        """The host's `addrs_factory`: the announced addresses, or the listen (and observed)
        addresses with an unspecified host expanded, never `0.0.0.0` or `::` themselves."""
        if self._announce:
            return list(self._announce)
        reported: list[Any] = []
        for candidate in candidates:
            for text in expand_unspecified(str(candidate), self._interfaces):
                if text not in {str(r) for r in reported}:
                    reported.append(multiaddr.Multiaddr(text))
        return reported

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until `stop()`. Pubsub services wrap the host so they close last, and peers are
        disconnected before the host closes, outside any cancelled scope (libp2p-notes §2): a host
        whose tasks are cancelled under it leaves its peers' connections half open."""
        async with self._gossip.services(), self._host.run(listen_addrs=[self._listen]):
            self._host.set_stream_handler(self._protocol, self._serve)
            self._host.set_stream_handler(STATUS_PROTOCOL, self._serve_status)
            self._host.set_stream_handler(IDENTIFY_PROTOCOL, self._serve_identify)
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await self._gossip.start(nursery)
                nursery.start_soon(self._carry_out_bans)
                nursery.start_soon(self._reconnect_loop)
                nursery.start_soon(self._exchange_loop)
                task_status.started()
                await self._stopping.wait()
                nursery.cancel_scope.cancel()
            self._nursery = None
            with trio.move_on_after(5):
                await self._disconnect_all()

    def stop(self) -> None:
        self._stopping.set()

    def peers(self) -> list[Any]:
        """Connected peers that are not banned."""
        return [p for p in self._host.get_connected_peers() if not self.misbehaviour.is_banned(p)]

    def peer_table(self) -> list[PeerRow]:
        """Connected peers, then banned ones, as an operator sees them; reads only. A ban's end is
        given as wall-clock time (the policy counts in monotonic seconds)."""
        wall = time.time()
        bans = self.misbehaviour.bans()
        rows: list[PeerRow] = []
        connected = list(self._host.get_connected_peers())
        for peer in [*connected, *(key for key in bans if key not in {str(p) for p in connected})]:
            key = str(peer)
            entry = self.peer_book.entries.get(key)
            address = entry.address if entry is not None else ""
            if not address and not isinstance(peer, str):
                try:
                    address = str(self._host.get_peerstore().addrs(peer)[0])
                except Exception:  # no address known (an inbound peer)
                    address = ""
            claim = self._claims.get(key)
            average = self.performance.average(key)
            ban = bans.get(key)
            rows.append(
                PeerRow(
                    id=key,
                    address=address,
                    connected=not isinstance(peer, str),
                    head=None if claim is None else claim[1].head_number,
                    latency_ms=None if average is None else round(average * 1000, 1),
                    score=round(self.misbehaviour.score(key), 1),
                    banned_until=None if ban is None else wall + ban[1],
                    ban_reason=None if ban is None else ban[0],
                )
            )
        return rows

    async def connect(self, address: str) -> None:
        """Dial `address` now and remember it in the peer book."""
        self.peer_book.add(address)
        peer = peer_id_of(address)
        if peer is not None and self.peer_book.dialing(peer):
            await self._dial(address)

    # --- misbehaviour ---------------------------------------------------------------------------

    def penalise(self, peer: Any, offence: Offence, detail: str = "") -> None:
        """Count `offence` against `peer` (synchronous: validators call it); a ban is carried out soon."""
        if peer is None:
            return
        if self.misbehaviour.report(peer, offence, detail):
            self._carry_out_ban_soon(peer)

    def _carry_out_ban_soon(self, peer: Any) -> None:
        try:
            self._bans.send_nowait(peer)
        except trio.WouldBlock:  # a thousand bans pending: the gate still refuses them
            log.warning("ban queue full; %s is refused on its next connection", peer)

    def is_banned(self, peer: Any) -> bool:
        return self.misbehaviour.is_banned(peer)

    def hears(self, peer: Any, topic: str) -> bool:
        """Whether `peer` is subscribed to our gossip `topic` ("blocks" or "documents")."""
        return self._gossip.subscribed(str(peer), topic)

    def is_connected(self, peer: Any) -> bool:
        return str(peer) in {str(p) for p in self._host.get_connected_peers()}

    def ban(self, peer: Any, reason: str) -> None:
        """Ban `peer` now (an operator's decision, or a test's partition)."""
        self.misbehaviour.ban(peer, reason)
        self._carry_out_ban_soon(peer)

    def pardon(self, peer: Any) -> None:
        """Lift a ban: the peer may connect and gossip again (its address must be given again)."""
        self.misbehaviour.pardon(peer)
        self._gossip.pardon(peer)

    async def _carry_out_bans(self) -> None:
        async for banned in self._ban_inbox:
            peer = banned if isinstance(banned, ID) else ID.from_base58(str(banned))
            self._gossip.blacklist(peer)
            self.peer_book.forget(str(peer))
            self._host.get_peerstore().clear_addrs(peer)  # or the auto-connector dials it again (P13)
            await self._quiet_disconnect(peer)

    # --- requests -------------------------------------------------------------------------------

    async def ask(self, peer: Any, request: Request, *, timeout: float = REQUEST_TIMEOUT) -> Any:
        """The peer's answer to `request` (decoded), or `PeerFailed`; faults are counted here."""
        protocol = STATUS_PROTOCOL if request.kind == STATUS else self._protocol
        if self.misbehaviour.is_banned(peer):
            raise PeerFailed(f"{peer} is banned")
        started = time.monotonic()
        try:
            raw = await exchange(self._host, peer, protocol, request.to_bytes(), timeout)
        except trio.TooSlowError:
            self.performance.failed(peer)
            self.penalise(peer, Offence.SILENCE, f"no answer to a request of kind {request.kind}")
            raise PeerSilent(f"{peer} did not answer within {timeout:.0f} s") from None
        except MessageTooLarge as exc:
            self.penalise(peer, Offence.OVERSIZED, f"answer frame: {exc}")
            raise PeerFailed(f"{peer} sent an oversized answer") from exc
        except Exception as exc:  # a refused protocol, a reset, a closed connection: nobody to blame
            raise PeerFailed(f"{peer}: {exc or type(exc).__name__}") from exc
        self.performance.answered(peer, time.monotonic() - started)
        try:
            return decode_response(raw, request.kind)
        except PeerError as exc:
            raise PeerRefused(f"{peer} refused: {exc}") from exc
        except DecodeError as exc:
            self.penalise(peer, Offence.BAD_ANSWER, str(exc))
            raise PeerFailed(f"{peer} answered nonsense: {exc}") from exc

    async def status(self, peer: Any, *, timeout: float = STATUS_TIMEOUT) -> Status:
        """The head `peer` claims; a peer of another currency is banned (`ForeignPeer`)."""
        status: Status = await self.ask(peer, Request(STATUS), timeout=timeout)
        if status.genesis != self.genesis:
            self.penalise(peer, Offence.FOREIGN, f"its block 0 is {status.genesis.hex()[:16]}")
            raise ForeignPeer(f"{peer} runs another currency")
        return status

    async def statuses(self, exclude: frozenset[str] = frozenset()) -> dict[Any, Status]:
        """The heads claimed by connected peers not in `exclude` and not resting after a silence.

        Peers are asked concurrently, in the background: the answer waits for every peer, or for
        the first answer plus `STRAGGLER_WAIT`, or for `FIRST_ANSWER_WAIT` at most. A late answer is
        kept and used by the next call while it is fresh (`CLAIM_TTL`), and a peer already being
        asked is not asked again: a silent peer costs a round a fraction of a second, never its
        deadline, and a slow one is still heard."""
        answered = trio.Event()
        pending = 0
        all_in = trio.Event()

        async def one(peer: Any) -> None:
            nonlocal pending
            try:
                self._claims[str(peer)] = (peer, await self.status(peer), time.monotonic())
                answered.set()
            except PeerFailed as exc:
                log.info("status of %s: %s", peer, exc)
            finally:
                self._asking.discard(str(peer))
                pending -= 1
                if pending == 0:
                    all_in.set()

        wanted = [p for p in self.peers() if str(p) not in exclude and not self.performance.is_resting(p)]
        if self._nursery is not None:  # not stopping
            for peer in wanted:
                if str(peer) not in self._asking:
                    self._asking.add(str(peer))
                    pending += 1
                    self._nursery.start_soon(one, peer)
        if pending:
            with trio.move_on_after(FIRST_ANSWER_WAIT):
                await answered.wait()
            with trio.move_on_after(STRAGGLER_WAIT):
                await all_in.wait()
        now, connected = time.monotonic(), {str(p) for p in wanted}
        for key in [k for k, (_p, _s, at) in self._claims.items() if now - at > CLAIM_TTL]:
            del self._claims[key]
        return {peer: status for key, (peer, status, _at) in self._claims.items() if key in connected}

    # --- serving --------------------------------------------------------------------------------

    async def _serve_status(self, stream: Any) -> None:
        await self._serve(stream, status_only=True)

    async def _serve(self, stream: Any, *, status_only: bool = False) -> None:
        """Answer one request on `stream`; nothing a peer sends can raise out of here."""
        peer = stream.muxed_conn.peer_id
        frames = VarIntLengthMsgReadWriter(stream, max_msg_size=MAX_FRAME)
        try:
            with trio.fail_after(SERVE_TIMEOUT):
                async with self._serving:
                    try:
                        raw = await frames.read_msg()
                    except MessageTooLarge as exc:
                        self.penalise(peer, Offence.OVERSIZED, f"request frame: {exc}")
                        return
                    try:
                        request = decode_request(raw)
                    except DecodeError as exc:
                        await frames.write_msg(encode_error(f"malformed request: {exc}"))
                        self.penalise(peer, Offence.MALFORMED, f"request: {exc}")
                        return
                    if status_only and request.kind != STATUS:
                        await frames.write_msg(encode_error("this protocol answers status requests only"))
                        return
                    try:
                        if request.kind == PEERS:  # who asks decides what may be told (`shareable`)
                            answer = encode_peers(self.advertised(to_loopback=_remote_is_loopback(stream)))
                        else:
                            answer = self._answer(request)
                    except Exception:
                        log.exception("answering %r from %s failed", request, peer)
                        answer = encode_error("the node failed to answer")
                    await frames.write_msg(answer)
            await stream.close()
        except trio.TooSlowError:
            log.info("request from %s not received in time", peer)
        except Exception as exc:  # a reset or a broken stream: this request is over
            log.debug("serving %s: %r", peer, exc)
        finally:
            await _reset(stream)

    def advertised(self, *, to_loopback: bool = True) -> list[str]:
        """What this node answers to a `peers` request: its own addresses first (at most
        `MAX_OWN_ADVERTISED`), then peers that answered us; never an unspecified address, and
        loopback ones only to a peer on loopback (`shareable`)."""
        own = shareable(self.addresses(), to_loopback=to_loopback)[:MAX_OWN_ADVERTISED]
        return shareable(own + self.peer_book.addresses(), to_loopback=to_loopback)

    async def _serve_identify(self, stream: Any) -> None:
        """Identify, answered per peer: py-libp2p's own handler reports every address of the host to
        everyone, loopback included; here a peer not on loopback is told only `shareable` addresses
        (and no signed peer record, which would carry them all)."""
        to_loopback = _remote_is_loopback(stream)
        try:
            with trio.fail_after(SERVE_TIMEOUT):
                observed = None
                remote = stream.get_remote_address()
                if remote is not None:
                    host, port = remote
                    host = host[7:] if host.lower().startswith("::ffff:") else host
                    observed = multiaddr.Multiaddr(f"/{'ip6' if ':' in host else 'ip4'}/{host}/tcp/{port}")
                addresses = shareable(self.addresses(), to_loopback=to_loopback)
                message = Identify(
                    protocol_version=IDENTIFY_VERSION,
                    agent_version=IDENTIFY_AGENT,
                    public_key=self._host.get_public_key().serialize(),
                    listen_addrs=[multiaddr.Multiaddr(_without_peer_id(a)).to_bytes() for a in addresses],
                    observed_addr=observed.to_bytes() if observed is not None else b"",
                    protocols=[str(p) for p in self._host.get_mux().get_protocols() if p is not None],
                )
                if to_loopback:
                    message.signedPeerRecord = env_to_send_in_RPC(self._host)[0]
                data = message.SerializeToString()
                await stream.write(encode_uvarint(len(data)) + data)
        except Exception as exc:  # a reset, a timeout: identify is best effort
            log.debug("identify for %s: %r", stream.muxed_conn.peer_id, exc)
        finally:
            with contextlib.suppress(Exception):  # already closed by the other side
                await stream.close()

    # --- gossip ---------------------------------------------------------------------------------

    async def publish_block(self, block: Block) -> None:
        await self._gossip.publish_block(block)

    async def publish_document(self, document: PendingDocument) -> None:
        await self._gossip.publish_document(document)

    # --- connections ----------------------------------------------------------------------------

    async def _dial(self, address: str) -> None:
        peer = peer_id_of(address)
        if peer is None or self.misbehaviour.is_banned(peer):
            return
        try:
            info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        except Exception:  # not a dialable address after all
            self.peer_book.failed(peer)
            return
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                with trio.fail_after(CONNECT_TIMEOUT):
                    await self._host.connect(info)
                self.peer_book.succeeded(peer)
                for connected in self.on_connected:
                    connected()
                return
            except Exception as exc:  # a fresh negotiation sometimes fails (libp2p-notes P18)
                if attempt == CONNECT_ATTEMPTS - 1:
                    self.peer_book.failed(peer)
                    log.info("cannot reach %s: %s", address, exc or type(exc).__name__)
                    return
                await trio.sleep(0.2 * (attempt + 1))

    async def _reconnect_loop(self) -> None:
        """Keep dialling the peers of the book (bootstrap ones included) that are not connected.
        Dials run in the background: a tarpit address costs its own deadline, not the loop's."""
        while True:
            connected = {str(p) for p in self._host.get_connected_peers()}
            room = MAX_OUTBOUND - len(connected)
            if room > 0 and self._nursery is not None:
                for address in self.peer_book.due(connected, limit=room):
                    self._nursery.start_soon(self._dial, address)
            await trio.sleep(RECONNECT_INTERVAL)

    async def _exchange_loop(self) -> None:
        """Ask every connected peer for the peers it knows, now and then."""
        while True:
            await trio.sleep(PEER_EXCHANGE_INTERVAL)
            async with trio.open_nursery() as nursery:
                for peer in self.performance.fastest_first(self.peers()):
                    nursery.start_soon(self._exchange_with, peer)

    async def _exchange_with(self, peer: Any) -> None:
        try:
            addresses = await self.ask(peer, Request(PEERS))
        except PeerFailed as exc:
            log.info("peers of %s: %s", peer, exc)
            return
        taken = self.peer_book.heard(addresses, str(peer), source_on_loopback=self._on_loopback(peer))
        if taken:
            log.info("heard %d new addresses from %s (of %d)", taken, peer, len(addresses))

    def _on_loopback(self, peer: Any) -> bool:
        """Whether our connection to `peer` runs over loopback (unknown: no)."""
        try:
            connections = self._host.get_network().get_connections(peer)
            remotes = [c.muxed_conn.get_remote_address() for c in connections]
        except Exception:  # the connection went away meanwhile
            return False
        return bool(remotes) and all(r is not None and is_loopback_ip(str(r[0])) for r in remotes)

    async def _disconnect_all(self) -> None:
        async with trio.open_nursery() as nursery:
            for peer in list(self._host.get_connected_peers()):
                nursery.start_soon(self._quiet_disconnect, peer)

    async def _quiet_disconnect(self, peer: Any) -> None:
        try:
            await self._host.disconnect(peer)
        except Exception as exc:  # already gone
            log.info("disconnecting %s: %s", peer, exc)


async def exchange(host: Any, peer: Any, protocol: TProtocol, request: bytes, timeout: float) -> bytes:
    """One request on a fresh stream and its raw answer frame: the sync protocol's wire format
    (one varint-framed request, one framed answer of at most `MAX_FRAME` bytes, then a reset).
    Raises `trio.TooSlowError` past `timeout`, `MessageTooLarge`, or libp2p's stream errors."""
    with trio.fail_after(timeout):
        stream = await host.new_stream(peer, [protocol])
        try:
            frames = VarIntLengthMsgReadWriter(stream, max_msg_size=MAX_FRAME)
            await frames.write_msg(request)
            answer: bytes = await frames.read_msg()
            return answer
        finally:
            await _reset(stream)


def _remote_is_loopback(stream: Any) -> bool:
    """Whether the peer on `stream` connected from a loopback address (unknown: no)."""
    try:
        remote = stream.get_remote_address()
    except Exception:  # a stream that lost its connection
        return False
    return remote is not None and is_loopback_ip(str(remote[0]))


def _without_peer_id(address: str) -> str:
    """`address` without its `/p2p/<id>` part (libp2p adds the host's own)."""
    return address.split("/p2p/", 1)[0]


async def _reset(stream: Any) -> None:
    try:
        await stream.reset()
    except Exception:  # already closed by the other side
        return


__all__ = ["ForeignPeer", "Network", "PeerFailed", "PeerRefused", "PeerSilent"]
