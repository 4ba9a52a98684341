"""A hostile peer's toolkit: a real `juned run` process to attack, and a scripted libp2p host to
attack it with (raw streams, lying answers, hostile gossip), all on 127.0.0.1."""

import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import multiaddr
import trio
from libp2p.custom_types import TProtocol
from libp2p.io.msgio import VarIntLengthMsgReadWriter
from libp2p.peer.peerinfo import info_from_p2p_addr

from node.p2p.gossip import Gossip
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.messages import (
    BLOCKS,
    MAX_FRAME,
    PEERS,
    STATUS,
    Status,
    decode_request,
    encode_blocks,
    encode_hashes,
    encode_peers,
    encode_status,
)
from node.p2p.misbehaviour import Offence
from node.p2p.network import STATUS_PROTOCOL, sync_protocol
from protocol.documents import Block, BlockRef, Identity
from protocol.keys import Keypair

JUNED = str(Path(sys.executable).with_name("juned"))
LOOPBACK = "/ip4/127.0.0.1/tcp/0"


@dataclass
class Victim:
    """A `juned run` process, its log, and what it printed at start."""

    process: trio.Process
    log: Path
    address: str
    api: str

    @property
    def peer_id(self) -> str:
        return self.address.rsplit("/", 1)[-1]

    def alive(self) -> bool:
        return self.process.returncode is None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def rss_mb(self) -> float:
        """Resident memory of the process, in MB (from /proc)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert found is not None
        return int(found.group(1)) / 1024

    async def api_get(self, path: str) -> Any:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(self.api + path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def head(self) -> int:
        node = await self.api_get("/node")
        return int(node["head"]["number"])

    async def wait_for_log(self, text: str, timeout: float) -> None:
        with trio.move_on_after(timeout):
            while text not in self.log_text():
                assert self.alive(), f"juned exited:\n{self.log_text()[-3000:]}"
                await trio.sleep(0.1)
            return
        raise AssertionError(f"{text!r} never appeared in the log:\n{self.log_text()[-3000:]}")


@asynccontextmanager
async def victim(datadir: Path, *extra: str, stdin: str | None = None) -> AsyncIterator[Victim]:
    """`juned run` over `datadir` with its API on a free port (`stdin`, if given, is written to
    it: a key file's passphrase); its log is appended to `<datadir>.log`; killed on the way out
    unless already stopped."""
    log = datadir.parent / f"{datadir.name}.log"
    offset = log.stat().st_size if log.exists() else 0
    source = datadir.parent / f"{datadir.name}.stdin"
    source.write_text(stdin or "")
    with log.open("ab") as out, source.open("rb") as given:
        process = await trio.lowlevel.open_process(
            [JUNED, "run", "--datadir", str(datadir), "--api", "127.0.0.1:0", "-v", *extra],
            stdin=given,
            stdout=out,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # no terminal: a passphrase is read from stdin
        )
    try:
        address = api = ""
        with trio.fail_after(60):
            while not (address and api):
                text = log.read_bytes()[offset:].decode("utf-8", errors="replace")
                assert process.poll() is None, f"juned exited at start:\n{text}"
                if found := re.search(r"node listening on (\S+)", text):
                    address = found.group(1)
                if found := re.search(r"client API on (\S+)", text):
                    api = found.group(1)
                await trio.sleep(0.1)
        yield Victim(process, log, address, api)
    finally:
        if process.poll() is None:
            process.kill()
        with trio.move_on_after(10):
            await process.wait()


@dataclass
class Attacker:
    host: Any
    peer_id: Any

    async def connect(self, address: str) -> Any:
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        with trio.fail_after(20):
            await self.host.connect(info)
        return info.peer_id

    async def send_raw(self, target: Any, protocol: str, payload: bytes) -> None:
        """Open a stream on `protocol` and write `payload` as it is (no framing); never raises."""
        try:
            with trio.fail_after(10):
                stream = await self.host.new_stream(target, [TProtocol(protocol)])
                await stream.write(payload)
                with trio.move_on_after(1):
                    await stream.read(1024)
                await stream.reset()
        except Exception:  # the victim may reset or refuse: that is its right
            return

    async def send_frame(self, target: Any, protocol: str, payload: bytes) -> bytes | None:
        """One varint-framed message and the framed answer, if any."""
        try:
            with trio.fail_after(10):
                stream = await self.host.new_stream(target, [TProtocol(protocol)])
                frames = VarIntLengthMsgReadWriter(stream, max_msg_size=1 << 20)
                await frames.write_msg(payload)
                answer: bytes = await frames.read_msg()
                return answer
        except Exception:
            return None

    def serve(self, protocol: str, handler: Callable[[Any], Awaitable[None]]) -> None:
        self.host.set_stream_handler(TProtocol(protocol), handler)

    def connected_to(self, peer: Any) -> bool:
        return str(peer) in {str(p) for p in self.host.get_connected_peers()}


@asynccontextmanager
async def attacker(directory: Path) -> AsyncIterator[Attacker]:
    directory.mkdir(parents=True, exist_ok=True)
    host = make_host(load_or_create_identity(directory))
    async with host.run(listen_addrs=[multiaddr.Multiaddr(LOOPBACK)]):
        yield Attacker(host, host.get_id())


def _ignore(_peer: object, _offence: Offence, _detail: str) -> None:
    return None


@asynccontextmanager
async def gossiping_attacker(directory: Path, genesis: Block) -> AsyncIterator[tuple[Attacker, Gossip]]:
    """An attacker in the victim's gossip mesh whose own validators let anything through."""
    directory.mkdir(parents=True, exist_ok=True)
    host = make_host(load_or_create_identity(directory))
    gossip = Gossip(
        host, genesis=genesis.hash, currency=genesis.currency, penalise=_ignore, header_check=lambda _b: None
    )
    async with gossip.services(), host.run(listen_addrs=[multiaddr.Multiaddr(LOOPBACK)]):
        await gossip.pubsub.wait_until_ready()
        await gossip.pubsub.subscribe(gossip.blocks_topic)  # no validator: it publishes anything
        await gossip.pubsub.subscribe(gossip.documents_topic)
        yield Attacker(host, host.get_id()), gossip


def lying_status(genesis: Block, head: int = 2**62) -> Status:
    """A status of our currency claiming `head`, with made-up hashes."""
    return Status(genesis.hash, head, os.urandom(32), genesis.median_time, os.urandom(32))


def answer_sync(host: Any, genesis: Block, status: Status, peers: Sequence[str] = ()) -> None:
    """Make `host` answer the status protocol with `status`, a peers request with `peers`, and every
    range request with nothing: with a lying status, a peer that claims what it cannot serve."""

    async def answer(stream: Any) -> None:
        frames = VarIntLengthMsgReadWriter(stream, max_msg_size=MAX_FRAME)
        try:
            request = decode_request(await frames.read_msg())
            if request.kind == STATUS:
                await frames.write_msg(encode_status(status))
            elif request.kind == PEERS:
                await frames.write_msg(encode_peers(list(peers)))
            else:
                await frames.write_msg(encode_blocks([]) if request.kind == BLOCKS else encode_hashes([]))
        except Exception:
            await stream.reset()

    for protocol in (STATUS_PROTOCOL, sync_protocol(genesis.hash)):
        host.set_stream_handler(protocol, answer)


def keep_silent(host: Any, genesis: Block) -> None:
    """Make `host` accept every June request and never answer."""

    async def never(_stream: Any) -> None:
        await trio.sleep_forever()

    for protocol in (STATUS_PROTOCOL, sync_protocol(genesis.hash)):
        host.set_stream_handler(protocol, never)


async def flood_identities(gossip: Gossip, genesis: Block, count: int) -> None:
    """Gossip `count` pending identities of throwaway keys, paced just enough that py-libp2p's
    outbound queue does not drop them (libp2p-notes P5)."""
    ref = BlockRef(0, genesis.hash)
    for index in range(count):
        junk = Identity.create(Keypair(os.urandom(32)), genesis.currency, f"junk{index}", ref)
        await gossip.pubsub.publish(gossip.documents_topic, junk.to_bytes())
        await trio.sleep(0.002)
