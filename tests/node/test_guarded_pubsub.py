"""Hostile bytes on a pubsub stream (libp2p-notes P20): with `GuardedPubsub` they cost the sender its
stream and an offence report, never the victim's host.

Three real hosts on 127.0.0.1: a victim built as June builds its node (persistent identity, Noise +
Yamux, pubsub services entered before `host.run()`), an honest peer in the victim's mesh, and an
attacker with no pubsub at all, which opens raw `/meshsub/1.x.0` streams to the victim and writes
bytes. After each attack the victim must still run and an honest peer must still receive what the
victim publishes.
"""

import contextlib
import hashlib
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import multiaddr
import pytest
import trio
from google.protobuf.message import DecodeError
from libp2p.custom_types import TProtocol
from libp2p.network.stream.exceptions import StreamClosed, StreamError, StreamReset
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.validators import PUBSUB_SIGNING_PREFIX
from libp2p.tools.anyio_service import background_trio_service
from libp2p.utils import encode_varint_prefixed
from libp2p.utils.varint import encode_uvarint

from node.p2p.guarded_pubsub import GuardedGossipSub, GuardedPubsub
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.misbehaviour import Offence

LOOPBACK = multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")
TOPIC = "june/0123456789abcdef/blocks/1"
MESHSUB_11 = TProtocol("/meshsub/1.1.0")
MESHSUB_10 = TProtocol("/meshsub/1.0.0")
FIVE_BYTES = bytes.fromhex("04ffffffff")  # length 4, then a field tag announcing a 2^28-byte field
#: A from_id that is a peer id but holds no public key (a sha256 multihash): the key must come in `key`.
HASHED_FROM_ID = b"\x12\x20" + b"\x01" * 32
INVALID_UTF8 = b"\xff\xfe"

Reported = tuple[ID, Offence, str]


class CountingGossipSub(GossipSub):
    """GossipSub as June configures it, counting heartbeats so a test can wait for the next ones."""

    def __init__(self) -> None:
        super().__init__(
            protocols=[MESHSUB_11, MESHSUB_10],
            degree=6,
            degree_low=4,
            degree_high=12,
            heartbeat_interval=1,
            spam_protection_enabled=False,
        )
        self.heartbeats = 0

    def mesh_heartbeat(self) -> Any:
        self.heartbeats += 1
        return super().mesh_heartbeat()


@dataclass
class Peer:
    host: Any
    router: CountingGossipSub
    pubsub: Pubsub
    stop: trio.Event = field(default_factory=trio.Event)
    failure: list[BaseException] = field(default_factory=list)

    @property
    def id(self) -> ID:
        return self.host.get_id()  # type: ignore[no-any-return]

    @property
    def alive(self) -> bool:
        return (
            not self.failure
            and self.pubsub.manager.is_running
            and self.router.manager.is_running
            and self.host.get_network().manager.is_running
        )


def make_peer(directory: Path, pubsub_class: type[Pubsub], **extra: Any) -> Peer:
    directory.mkdir(parents=True)
    host = make_host(load_or_create_identity(directory))
    router = CountingGossipSub()
    pubsub = pubsub_class(
        host,
        router,
        msg_id_constructor=lambda message: hashlib.sha256(message.data).digest(),
        validation_cache_ttl=1,
        validation_timeout=5.0,
        max_inbound_rpc_size=1 << 20,
        **extra,
    )
    return Peer(host, router, pubsub)


async def serve(peer: Peer, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Run a peer the way gossip.py does (services outside `host.run()`); record how it died."""
    try:
        async with (
            background_trio_service(peer.pubsub),
            background_trio_service(peer.router),
            peer.host.run(listen_addrs=[LOOPBACK]),
        ):
            task_status.started()
            await peer.stop.wait()
    except Exception as exc:
        peer.failure.append(exc)
    finally:
        peer.pubsub.seen_messages.stop()  # libp2p-notes P12


@dataclass
class Net:
    victim: Peer
    honest: Peer
    attacker: Any
    honest_inbox: Any
    offences: list[Reported]
    probes: int = 0

    @property
    def attacker_id(self) -> ID:
        return self.attacker.get_id()  # type: ignore[no-any-return]


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.01)
        return
    raise AssertionError(f"timed out after {timeout} s waiting until {what}")


@asynccontextmanager
async def network(
    tmp_path: Path,
    on_offence: Callable[[ID, Offence, str], None] | None = None,
    victim_class: type[Pubsub] = GuardedPubsub,
) -> AsyncIterator[Net]:
    offences: list[Reported] = []

    def record(peer: ID, offence: Offence, detail: str) -> None:
        offences.append((peer, offence, detail))
        if on_offence is not None:
            on_offence(peer, offence, detail)

    extra = {"on_offence": record} if victim_class is GuardedPubsub else {}
    victim = make_peer(tmp_path / "victim", victim_class, **extra)
    honest = make_peer(tmp_path / "honest", Pubsub)
    (tmp_path / "attacker").mkdir()
    attacker = make_host(load_or_create_identity(tmp_path / "attacker"))
    async with trio.open_nursery() as nursery:
        await nursery.start(serve, victim)
        await nursery.start(serve, honest)
        async with attacker.run(listen_addrs=[LOOPBACK]):
            with trio.fail_after(30):
                await victim.pubsub.wait_until_ready()
                await honest.pubsub.wait_until_ready()
                await victim.pubsub.subscribe(TOPIC)
                inbox = await honest.pubsub.subscribe(TOPIC)
                await honest.host.connect(PeerInfo(victim.id, victim.host.get_addrs()))
                await victim.pubsub.wait_for_subscription(honest.id, TOPIC, timeout=20)
                await victim.pubsub.wait_for_mesh(honest.id, TOPIC, timeout=20)
                await attacker.connect(PeerInfo(victim.id, victim.host.get_addrs()))
            net = Net(victim, honest, attacker, inbox, offences)
            await gossip_works(net, "before any attack")
            yield net
        victim.stop.set()
        honest.stop.set()


async def gossip_works(net: Net, tag: str) -> list[bytes]:
    """The victim publishes; the honest peer receives it. Returns what it received before."""
    assert net.victim.alive, f"the victim died: {net.victim.failure!r}"
    data = f"the victim still speaks ({tag}) {random.random()}".encode()
    await net.victim.pubsub.publish(TOPIC, data)
    earlier: list[bytes] = []
    with trio.fail_after(10):
        while (message := await net.honest_inbox.get()).data != data:
            earlier.append(message.data)
    return earlier


def frame(rpc: rpc_pb2.RPC) -> bytes:
    return encode_varint_prefixed(rpc.SerializeToString())


def raw_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, written by hand (so it may hold invalid UTF-8)."""
    return encode_uvarint(number << 3 | 2) + encode_uvarint(len(payload)) + payload


def raw_frame(body: bytes) -> bytes:
    return encode_uvarint(len(body)) + body


def unframe(data: bytes) -> bytes:
    """The body of a frame: what follows the varint length prefix."""
    return data[next(i for i, byte in enumerate(data) if byte < 0x80) + 1 :]


async def probe(net: Net, stream: Any) -> bool:
    """Write a subscription to a fresh topic and wait until the victim has read it (so everything
    written before on `stream` has been handled) or has reported the attacker: True if it was read."""
    net.probes += 1
    topic = f"probe-{net.probes}"
    reports = len(net.offences)
    with contextlib.suppress(StreamReset, StreamClosed):  # already reset: the report is on its way
        await stream.write(
            frame(rpc_pb2.RPC(subscriptions=[rpc_pb2.RPC.SubOpts(subscribe=True, topicid=topic)]))
        )
    await wait_for(
        lambda: (
            net.attacker_id in net.victim.pubsub.peer_topics.get(topic, ()) or len(net.offences) > reports
        ),
        10,
        "the victim reads the probe or reports the attacker",
    )
    if len(net.offences) > reports:
        return False
    await stream.write(
        frame(rpc_pb2.RPC(subscriptions=[rpc_pb2.RPC.SubOpts(subscribe=False, topicid=topic)]))
    )
    return True


async def assert_reset(stream: Any) -> None:
    """The victim dropped the stream (over Yamux, its reset reaches our reader as an end of stream)."""
    with trio.fail_after(5), pytest.raises(StreamError):
        await stream.read(1)


# --- the sharp edge itself ---------------------------------------------------------------------------


async def test_upstream_pubsub_dies_of_five_bytes(tmp_path: Path) -> None:
    """Without the guard the 5 bytes end the victim's services and `host.run()`: the guard is needed."""
    victim = make_peer(tmp_path / "victim", Pubsub)
    (tmp_path / "attacker").mkdir()
    attacker = make_host(load_or_create_identity(tmp_path / "attacker"))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(serve, victim)
            async with attacker.run(listen_addrs=[LOOPBACK]):
                await victim.pubsub.wait_until_ready()
                await victim.pubsub.subscribe(TOPIC)
                await attacker.connect(PeerInfo(victim.id, victim.host.get_addrs()))
                stream = await attacker.new_stream(victim.id, [MESHSUB_11])
                await stream.write(FIVE_BYTES)
                await wait_for(lambda: bool(victim.failure), 10, "the upstream victim dies")
            victim.stop.set()
    [failure] = victim.failure
    assert isinstance(failure, ExceptionGroup)
    assert failure.subgroup(DecodeError) is not None, failure


# --- bytes that cannot be read: that stream is reset, the peer reported -----------------------------


MALFORMED_FRAMES = {
    "five bytes": (FIVE_BYTES, Offence.MALFORMED, "DecodeError"),
    "a 1 TiB length prefix": (encode_uvarint(1 << 40), Offence.OVERSIZED, "above"),
    "a length prefix one byte too long": (encode_uvarint((1 << 20) + 1), Offence.OVERSIZED, "above"),
    "a varint that never ends": (b"\xff" * 12, Offence.MALFORMED, "ParseError"),
    "a 10-byte varint above 2^64": (b"\xff" * 9 + b"\x7f", Offence.MALFORMED, "ParseError"),
    "GRAFT for a topic that is not UTF-8": (
        raw_frame(raw_field(3, raw_field(3, raw_field(1, INVALID_UTF8)))),
        Offence.MALFORMED,
        "UnicodeDecodeError",
    ),
}


@pytest.mark.parametrize("protocol", [MESHSUB_11, MESHSUB_10])
@pytest.mark.parametrize("name", list(MALFORMED_FRAMES))
async def test_an_unreadable_frame_costs_that_stream_only(
    tmp_path: Path, name: str, protocol: TProtocol
) -> None:
    data, offence, words = MALFORMED_FRAMES[name]
    with trio.fail_after(60):
        async with network(tmp_path) as net:
            bystander = await net.attacker.new_stream(net.victim.id, [protocol])
            assert await probe(net, bystander)
            stream = await net.attacker.new_stream(net.victim.id, [protocol])
            await stream.write(data)
            await wait_for(lambda: bool(net.offences), 10, "the attacker is reported")
            await assert_reset(stream)
            [(peer, reported, detail)] = net.offences
            assert (peer, reported) == (net.attacker_id, offence)
            assert words in detail and len(detail) <= 160
            await gossip_works(net, name)
            assert await probe(net, bystander)  # the attacker's other stream was left alone
            assert net.attacker_id in net.victim.host.get_connected_peers()  # and so was its connection
            assert len(net.offences) == 1


async def test_an_offence_callback_that_raises_does_not_reach_libp2p(tmp_path: Path) -> None:
    def explode(peer: ID, offence: Offence, detail: str) -> None:
        raise RuntimeError("the ban list is on fire")

    with trio.fail_after(60):
        async with network(tmp_path, on_offence=explode) as net:
            for _ in range(2):
                stream = await net.attacker.new_stream(net.victim.id, [MESHSUB_11])
                await stream.write(FIVE_BYTES)
                await assert_reset(stream)
            await wait_for(lambda: len(net.offences) == 2, 10, "both reports")
            await gossip_works(net, "after a failing callback")


# --- messages that decode but carry garbage: dropped and reported, the stream stays --------------------


def garbage_key_message(key: bytes) -> bytes:
    message = rpc_pb2.Message(
        from_id=HASHED_FROM_ID, data=b"hostile", seqno=b"\x00" * 8, topicIDs=[TOPIC], signature=b"x" * 64
    )
    message.key = key
    return frame(rpc_pb2.RPC(publish=[message]))


HOSTILE_MESSAGES: dict[str, tuple[Callable[[Any], bytes], str]] = {
    "a key that is not a protobuf": (lambda attacker: garbage_key_message(b"\xff\xff\x01"), "DecodeError"),
    "an Ed25519 key of 5 bytes": (
        lambda attacker: garbage_key_message(b"\x08\x01\x12\x05hello"),
        "ValueError",
    ),
    "an RSA key of 5 bytes": (lambda attacker: garbage_key_message(b"\x08\x00\x12\x05hello"), "ValueError"),
    "a secp256k1 key of 5 bytes": (
        lambda attacker: garbage_key_message(b"\x08\x02\x12\x05hello"),
        "ValueError",
    ),
    "an ECDSA key (no deserializer)": (
        lambda attacker: garbage_key_message(b"\x08\x03\x12\x05hello"),
        "MissingDeserializerError",
    ),
    "a second topic that is not UTF-8": (
        lambda attacker: raw_frame(
            raw_field(
                2,
                raw_field(1, attacker.get_id().to_bytes())
                + raw_field(2, b"hostile")
                + raw_field(3, b"\x00" * 8)
                + raw_field(4, TOPIC.encode())
                + raw_field(4, INVALID_UTF8)
                + raw_field(5, b"x" * 64),
            )
        ),
        "UnicodeDecodeError",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_MESSAGES))
async def test_a_published_message_that_breaks_the_checks_is_dropped(tmp_path: Path, name: str) -> None:
    build, words = HOSTILE_MESSAGES[name]
    with trio.fail_after(60):
        async with network(tmp_path) as net:
            stream = await net.attacker.new_stream(net.victim.id, [MESHSUB_11])
            await stream.write(build(net.attacker))
            await wait_for(lambda: bool(net.offences), 10, "the attacker is reported")
            [(peer, offence, detail)] = net.offences
            assert (peer, offence) == (net.attacker_id, Offence.MALFORMED)
            assert words in detail
            assert b"hostile" not in await gossip_works(net, name)  # not relayed
            assert await probe(net, stream)  # the RPC decoded: its stream is still read


# --- hostile but well-formed RPCs that upstream already survives ---------------------------------------


def signed_by(
    attacker: Any, topics: list[str], seqno: bytes = b"\x00" * 8, data: bytes = b"hostile"
) -> bytes:
    message = rpc_pb2.Message(data=data, topicIDs=topics, from_id=attacker.get_id().to_bytes(), seqno=seqno)
    signed = PUBSUB_SIGNING_PREFIX.encode() + message.SerializeToString()
    message.signature = attacker.get_private_key().sign(signed)
    return frame(rpc_pb2.RPC(publish=[message]))


def control(**parts: Any) -> bytes:
    return frame(rpc_pb2.RPC(control=rpc_pb2.ControlMessage(**parts)))


def subscriptions(topics: list[str], subscribe: bool = True) -> bytes:
    return frame(
        rpc_pb2.RPC(subscriptions=[rpc_pb2.RPC.SubOpts(subscribe=subscribe, topicid=t) for t in topics])
    )


MANY_IDS = [b"%032d" % i for i in range(20_000)]  # 32-byte ids, as sha256 ones; 0.7 MB
HARMLESS: dict[str, Callable[[Any], bytes]] = {
    "from_id that is no peer id, no key": lambda a: frame(
        rpc_pb2.RPC(
            publish=[rpc_pb2.Message(from_id=b"garbage", data=b"hostile", topicIDs=[TOPIC], signature=b"x")]
        )
    ),
    "bad signature": lambda a: frame(
        rpc_pb2.RPC(
            publish=[
                rpc_pb2.Message(
                    from_id=a.get_id().to_bytes(), data=b"hostile", topicIDs=[TOPIC], signature=b"x"
                )
            ]
        )
    ),
    "signed, 20,000 extra topics": lambda a: signed_by(a, [TOPIC] + [f"t{i}" for i in range(20_000)]),
    "signed, a 500 kB topic": lambda a: signed_by(a, [TOPIC, "y" * 500_000], data=b"hostile 2"),
    "signed, a 500 kB seqno": lambda a: signed_by(a, [TOPIC], seqno=b"\xff" * 500_000, data=b"hostile 3"),
    "signed, empty seqno and data": lambda a: signed_by(a, [TOPIC], seqno=b"", data=b""),
    "a 900 kB topic subscription": lambda a: subscriptions(["x" * 900_000]),
    "5,001 subscriptions in one RPC": lambda a: subscriptions([f"s{i}" for i in range(5_001)]),
    "a subscription that is not UTF-8": lambda a: raw_frame(
        raw_field(1, b"\x08\x01" + raw_field(2, INVALID_UTF8))
    ),
    "unsubscribing unknown topics": lambda a: subscriptions(["nope", ""], subscribe=False),
    "garbage sender record": lambda a: frame(rpc_pb2.RPC(senderRecord=b"\xff\x00garbage")),
    "IHAVE with 20,000 ids": lambda a: control(
        ihave=[rpc_pb2.ControlIHave(topicID=TOPIC, messageIDs=MANY_IDS)]
    ),
    "IHAVE on a topic that is not UTF-8": lambda a: raw_frame(
        raw_field(3, raw_field(1, raw_field(1, INVALID_UTF8) + raw_field(2, b"id")))
    ),
    "IWANT with 20,000 ids": lambda a: control(iwant=[rpc_pb2.ControlIWant(messageIDs=MANY_IDS)]),
    "IDONTWANT with 20,000 ids": lambda a: control(idontwant=[rpc_pb2.ControlIDontWant(messageIDs=MANY_IDS)]),
    "5,000 GRAFTs for unknown topics": lambda a: control(
        graft=[rpc_pb2.ControlGraft(topicID=f"g{i}") for i in range(5_000)]
    ),
    "GRAFT on our topic": lambda a: control(graft=[rpc_pb2.ControlGraft(topicID=TOPIC)]),
    "PRUNE with a 2^64-1 s back-off": lambda a: control(
        prune=[rpc_pb2.ControlPrune(topicID=TOPIC, backoff=2**64 - 1)]
    ),
    "PRUNE with garbage PX records": lambda a: control(
        prune=[
            rpc_pb2.ControlPrune(
                topicID=TOPIC,
                peers=[
                    rpc_pb2.PeerInfo(peerID=b"junk", signedPeerRecord=b"\xff\x01junk"),
                    rpc_pb2.PeerInfo(signedPeerRecord=b"\x0a\x03abc"),
                    rpc_pb2.PeerInfo(peerID=HASHED_FROM_ID),
                ],
            )
        ]
    ),
    "PRUNE on a topic that is not UTF-8": lambda a: raw_frame(
        raw_field(3, raw_field(4, raw_field(1, INVALID_UTF8)))
    ),
    "an empty RPC": lambda a: raw_frame(b""),
}


@pytest.mark.parametrize("victim_class", [Pubsub, GuardedPubsub])
async def test_hostile_but_well_formed_rpcs_change_nothing(
    tmp_path: Path, victim_class: type[Pubsub]
) -> None:
    """Inputs upstream already survives: no report, no reset, and the heartbeats that run over the state
    they leave behind do not fail either."""
    with trio.fail_after(120):
        async with network(tmp_path, victim_class=victim_class) as net:
            streams = [await net.attacker.new_stream(net.victim.id, [p]) for p in (MESHSUB_11, MESHSUB_10)]
            for index, (name, build) in enumerate(HARMLESS.items()):
                stream = streams[index % 2]
                await stream.write(build(net.attacker))
                assert await probe(net, stream), name
                assert net.victim.alive, name
            heartbeats = net.victim.router.heartbeats
            await wait_for(lambda: net.victim.router.heartbeats >= heartbeats + 2, 10, "two more heartbeats")
            await gossip_works(net, "after the hostile RPCs")
            assert net.offences == []


# --- fuzz -----------------------------------------------------------------------------------------


def fuzz_cases(attacker: Any, count: int, seed: int) -> list[bytes]:
    """RPC bodies (each sent with a correct length prefix): random bytes, and valid RPCs with a few bytes
    changed."""
    rng = random.Random(seed)
    templates = [
        unframe(signed_by(attacker, [TOPIC], data=b"fuzz")),
        unframe(control(ihave=[rpc_pb2.ControlIHave(topicID=TOPIC, messageIDs=[b"a", b"b"])])),
        unframe(
            control(graft=[rpc_pb2.ControlGraft(topicID=TOPIC)], prune=[rpc_pb2.ControlPrune(topicID="x")])
        ),
        unframe(garbage_key_message(b"\x08\x01\x12\x20" + bytes(32))),
    ]
    cases = []
    for index in range(count):
        if index % 2 == 0:
            body = rng.randbytes(rng.randint(1, 120))
        else:
            mutated = bytearray(rng.choice(templates))
            for _ in range(rng.randint(1, 4)):
                position = rng.randrange(len(mutated))
                choice = rng.random()
                if choice < 0.6:
                    mutated[position] = rng.randrange(256)
                elif choice < 0.8:
                    mutated.insert(position, rng.randrange(256))
                else:
                    del mutated[position]
            body = bytes(mutated)
        cases.append(body)
    return cases


async def test_fuzzed_frames_never_take_the_victim_down(tmp_path: Path) -> None:
    with trio.fail_after(240):
        async with network(tmp_path) as net:
            cases = fuzz_cases(net.attacker, 200, seed=20_240_601)
            decode_errors = 0
            for index, body in enumerate(cases):
                try:
                    rpc_pb2.RPC().ParseFromString(body)
                except DecodeError:
                    decode_errors += 1
                stream = await net.attacker.new_stream(
                    net.victim.id, [MESHSUB_11 if index % 2 == 0 else MESHSUB_10]
                )
                await stream.write(raw_frame(body))
                await probe(net, stream)
                assert net.victim.alive, f"fuzz case {index} ({body.hex()}) killed the victim"
                if index % 40 == 39:
                    await gossip_works(net, f"after fuzz case {index}")
            await gossip_works(net, "after the fuzz")
            assert {(peer, offence) for peer, offence, _ in net.offences} <= {
                (net.attacker_id, Offence.MALFORMED),
                (net.attacker_id, Offence.OVERSIZED),
            }
            # every frame that does not decode is one report (more reports come from garbage keys)
            assert decode_errors >= 100
            assert len(net.offences) >= decode_errors


async def test_peer_exchange_records_in_a_prune_are_never_dialled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Upstream acts on the peers a PRUNE names (neutral scoring accepts any PX): it reads their
    records and dials them, a dial amplifier. June's router ignores them."""
    records = [rpc_pb2.PeerInfo(peerID=HASHED_FROM_ID, signedPeerRecord=b"\x0a\x03abc")] * 16
    opened: list[bytes] = []

    def consume(envelope: bytes, _domain: str) -> Any:
        opened.append(envelope)
        raise ValueError("not a record")

    monkeypatch.setattr("libp2p.pubsub.gossipsub.consume_envelope", consume)
    upstream = GossipSub(protocols=[MESHSUB_11], degree=6, degree_low=4, degree_high=12)
    attached = cast(Any, SimpleNamespace(peers={}))  # a pubsub, as far as `_do_px` can tell
    upstream.pubsub = attached
    await upstream._do_px(records)
    assert opened, "upstream no longer acts on PX records: this guard may be dropped"
    opened.clear()
    guarded = GuardedGossipSub(protocols=[MESHSUB_11], degree=6, degree_low=4, degree_high=12)
    guarded.pubsub = attached
    await guarded._do_px(records)
    assert opened == []
