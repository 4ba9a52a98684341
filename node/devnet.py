"""A local development network: N nodes of a `dev` currency in one process, sharing one clock.

The first nodes forge as the dev founders (alice, bob, …, whose keys are public); the others only
relay and validate. The shared clock can run faster than real time and can jump ahead on demand,
so that a user watches months of dividends, reevaluations, expiries and exclusions in minutes.
A devnet directory is kept between runs: starting again resumes the same currency.

A devnet lives for years
------------------------
Nobody renews the dev founders' memberships and certifications by hand, so the devnet does it
(`FounderKeeper`): at each new head, every founder whose membership expires within a quarter of
msValidity asks to renew it, and every certification between founders that expires within half of
sigValidity is issued again, all signed with the founders' public dev keys and submitted as a
client's would be (`Node.submit`): what is not valid yet (sigPeriod, sigReplay, msPeriod) waits in
the pool or is submitted again at a later head. A founder who left on purpose is not brought back.

Since the expiries are counted on the chain's median time, a jump must not carry the chain past a
renewal before it is written: `Devnet.jump` cuts a jump into steps no longer than the membership
margin, and after each step waits for new blocks on every node (moving the clock one avgGenTime
more so that each is due at once) until the renewals it submitted are written.

Resuming
--------
The first start picks each node's p2p and API ports and writes them in its juned.toml, with the
addresses of the first and the previous node as `bootstrap` (peer ids are kept in each data
directory), so a resumed devnet listens where it did and its nodes dial each other again. The dev
clock's lead over the wall clock (jumps and speed) is kept in `clock.json` and taken again on
resume, never below the chain's head time: a resumed clock never goes back before its chain.
"""

import json
import logging
import os
import re
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from node.chain import ChainManager, Outcome
from node.clock import Clock
from node.commands.data import dev_block_zero
from node.datadir import STORE_NAME, NodeConfig, read_config, write_config
from node.errors import NodeError
from node.mempool import Admission, NotReady, State
from node.node import Node
from node.store import LevelStore
from protocol.amounts import format_cents
from protocol.crypto import Hash, PublicKey
from protocol.documents import Block, BlockRef, Certification, Membership, MembershipType
from protocol.documents.pending import PendingDocument
from protocol.errors import ProtocolError
from protocol.genesis import DEV_NAMES, dev_keypair
from protocol.keys import Keypair

log = logging.getLogger("june.devnet")

GENESIS_FILE = "block0.cbor"
#: The dev clock's lead over the wall clock, kept between runs.
CLOCK_FILE = "clock.json"
LOOPBACK = "/ip4/127.0.0.1/tcp/0"
#: How long a jump's step waits for a new block on every node before it gives up.
BLOCK_TIMEOUT = 60.0
#: Blocks a jump's step waits for at most while renewals it submitted are still to be written.
SETTLE_BLOCKS = 8
#: How often a jump looks at the nodes' heads, in seconds.
POLL = 0.02
#: Between two checks of the founders when no head comes (the dev clock runs on meanwhile).
KEEPER_IDLE = 5.0
UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}
JUMP = re.compile(r"^\+(\d+)([hdwmy])$")


class DevnetError(NodeError):
    """The devnet directory cannot be used (another currency, a damaged block 0, …)."""


def parse_jump(text: str) -> int:
    """Seconds of a jump written `+N<unit>`: h(ours), d(ays), w(eeks), m(onths of 30 days), y(ears)."""
    match = JUMP.match(text.strip())
    if match is None:
        raise ValueError(f"not a jump: {text!r} (write e.g. +1d, +2w, +3m, +1y)")
    return int(match.group(1)) * UNITS[match.group(2)]


@dataclass(frozen=True)
class DevnetView:
    """What the status line shows: the network's head as seen by each node."""

    clock_time: int
    heights: tuple[int, ...]
    agreed: bool
    members: int
    dividend: int | None
    unit_base: int
    mass: int

    def line(self) -> str:
        date = datetime.fromtimestamp(self.clock_time, UTC).strftime("%Y-%m-%d %H:%M")
        ud = "none yet" if self.dividend is None else format_cents(self.dividend * 10**self.unit_base)
        heads = f"{self.heights[0]}" if self.agreed else "/".join(map(str, self.heights)) + " (syncing)"
        return (
            f"dev clock {date} UTC | block {heads} | members {self.members} | "
            f"UD {ud} | mass {format_cents(self.mass)}"
        )


def free_port(taken: set[int]) -> int:
    """A TCP port of 127.0.0.1 free now and not in `taken` (which it joins): chosen once, at a
    devnet's first start, then kept in its nodes' juned.toml."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def _port_of(address: str) -> int:
    """The port of `/ip4/…/tcp/PORT` or of `host:PORT`; 0 when there is none."""
    tail = address.rsplit("/tcp/", 1)[-1] if "/tcp/" in address else address.rsplit(":", 1)[-1]
    digits = tail.split("/", 1)[0]
    return int(digits) if digits.isdigit() else 0


@dataclass
class FounderKeeper:
    """Keeps a devnet's founders members for as long as it runs: renews their memberships and the
    certifications between them before they expire (see the module docstring). Documents go to
    `node` (the first one) as a client's would, and to the other forging nodes too: a peer refuses
    a relayed document it cannot take yet (a reference block it has not seen, a period not over)
    and is not sent it again, while the forger that writes the next block may be any of them."""

    node: Node
    clock: Clock
    #: The founders, by key: their uid and their (public) dev key pair.
    founders: dict[PublicKey, tuple[str, Keypair]]
    #: The other nodes that forge, given each document as well.
    others: list[Node] = field(default_factory=list)
    #: (kind, issuer, receiver) → hash of the document submitted for it, while it may be written.
    _sent: dict[tuple[str, PublicKey, PublicKey], Hash] = field(default_factory=dict)
    _lock: trio.Lock = field(default_factory=trio.Lock)
    _changed: trio.Event = field(default_factory=trio.Event)

    def __post_init__(self) -> None:
        self.node.intake.on_head_change.append(self.head_changed)

    def head_changed(self) -> None:
        self._changed.set()

    async def run(self) -> None:
        """Check the founders at each new head of the first node (and now and then without one)."""
        while True:
            await self.renew()
            with trio.move_on_after(KEEPER_IDLE):
                await self._changed.wait()
            self._changed = trio.Event()

    def margins(self) -> tuple[int, int]:
        """(membership margin, certification margin) in seconds: a quarter of msValidity, half of
        sigValidity. A founder certifies once per sigPeriod, so certifications need the longer
        lead: the first renewals, all due at once (block 0 wrote them together), spread over it."""
        params = self.node.chain.params
        assert params is not None
        return params.ms_validity // 4, params.sig_validity // 2

    async def renew(self) -> int:
        """Submit what is due on the head; how many documents were taken (accepted or waiting)."""
        async with self._lock:
            store = self.node.store
            head = store.head()
            if head is None or self.node.chain.params is None:
                return 0
            head_hash = store.block_hash(head.number)
            assert head_hash is not None
            ref = BlockRef(head.number, head_hash)
            currency = self.node.config.currency
            now = max(self.clock.now(), head.median_time)
            ms_margin, cert_margin = self.margins()
            taken = 0
            members: list[PublicKey] = []
            kept: list[PublicKey] = []  # founders to keep or bring back: certified by the members
            for key, (uid, keypair) in self.founders.items():
                identity, membership = store.identity(key), store.membership(key)
                if identity is None or identity.revoked_on is not None:
                    continue
                if membership is not None and membership.leaving:
                    continue  # left on purpose (someone typed `june wot leave`): not brought back
                kept.append(key)
                if identity.member:
                    members.append(key)
                if membership is None or not identity.member or membership.expires_on <= now + ms_margin:
                    document = Membership.create(keypair, currency, MembershipType.IN, uid, ref)
                    taken += await self._submit(("membership", key, key), document, f"{uid}'s membership")
            for issuer in members:
                for receiver in kept:  # an excluded founder too: enough certifications bring it back
                    if issuer == receiver:
                        continue
                    cert = store.certification(issuer, receiver)
                    if cert is not None and cert.expires_on > now + cert_margin:
                        continue
                    receiver_identity = store.identity(receiver)
                    assert receiver_identity is not None
                    cert_document = Certification.create(
                        self.founders[issuer][1], currency, receiver, receiver_identity.hash, ref
                    )
                    what = f"certification {self.founders[issuer][0]} → {self.founders[receiver][0]}"
                    taken += await self._submit(("certification", issuer, receiver), cert_document, what)
            return taken

    def busy(self) -> bool:
        """Whether a document submitted is valid on the head and not written yet: the next block
        writes it, and a jump waits for that block."""
        return any(self.node.mempool.status(sent).state is State.PENDING for sent in self._sent.values())

    async def _submit(
        self, slot: tuple[str, PublicKey, PublicKey], document: PendingDocument, what: str
    ) -> int:
        sent = self._sent.get(slot)
        if sent is not None and self.node.mempool.status(sent).state in (State.PENDING, State.WAITING):
            return 0  # the one already sent may still be written
        try:
            result = await self.node.submit(document)
        except (ProtocolError, NotReady) as exc:  # not valid now: tried again at a later head
            log.debug("devnet: %s not renewed yet: %s", what, exc)
            return 0
        except NodeError as exc:  # a full disk: the node says it already
            log.info("devnet: %s not renewed: %s", what, exc)
            return 0
        if result.admission in (Admission.ACCEPTED, Admission.WAITING, Admission.KNOWN):
            self._sent[slot] = document.hash
            log.info("devnet: renewing %s (%s)", what, result.admission.value)
            for other in self.others:
                try:
                    await other.submit(document)
                except (ProtocolError, NodeError) as exc:  # on another branch for a moment: gossip
                    log.debug("devnet: %s not taken by %s: %s", what, other.datadir.name, exc)
            return 1
        log.info("devnet: %s not renewed yet: %s", what, result.reason)
        return 0


class Devnet:
    def __init__(
        self,
        root: Path,
        *,
        nodes: int = 3,
        members: int = 5,
        clock: Clock | None = None,
        cpu_share: float = 0.25,
        turn_spacing: float = 0.5,
        api_port: int = 0,
    ) -> None:
        if not 1 <= nodes <= 20:
            raise DevnetError("a devnet has 1 to 20 nodes")
        self.root = root
        self.clock = clock or Clock()
        self.clock.catch_up(self._saved_lead())
        genesis = self._genesis(members)
        self.nodes: list[Node] = []
        try:
            taken: set[int] = set()
            for index in range(nodes):
                datadir = self._datadir(index, genesis, api_port, taken)
                forger = dev_keypair(DEV_NAMES[index]) if index < members else None
                self.nodes.append(
                    Node(
                        datadir,
                        forger=forger,
                        clock=self.clock,
                        cpu_share=cpu_share,
                        turn_spacing=turn_spacing,
                    )
                )
            self._link()
        except BaseException:
            self.close()
            raise
        # a resumed clock never reads before its chain (a lost clock.json, a killed devnet)
        self.clock.catch_up(at_least=max((h.time for n in self.nodes if (h := n.store.head())), default=0))
        self.names = [DEV_NAMES[i] if i < members else f"relay-{i}" for i in range(nodes)]
        founders = {
            identity.issuer: (identity.uid, dev_keypair(identity.uid))
            for identity in genesis.identities
            if identity.uid in DEV_NAMES
        }
        forging = [node for node in self.nodes[1:] if node.forger is not None]
        self.keeper = FounderKeeper(self.nodes[0], self.clock, founders, others=forging)
        self._keeping = trio.CancelScope()  # the keeper's task, cancelled by `stop()`

    def _genesis(self, members: int) -> Block:
        path = self.root / GENESIS_FILE
        if path.exists():
            try:
                return Block.from_bytes(path.read_bytes())
            except Exception as exc:
                raise DevnetError(f"{path} is damaged: {exc}") from exc
        self.root.mkdir(parents=True, exist_ok=True)
        # dated a little in the past so the first block is due at once
        block = dev_block_zero(members, self.clock.now() - 60)
        path.write_bytes(block.to_bytes())
        return block

    def _datadir(self, index: int, genesis: Block, api_port: int, taken: set[int]) -> Path:
        """Node `index`'s data directory, made at the first start with fixed ports (kept in its
        juned.toml, so that a resumed devnet listens where it did; a directory of an older devnet,
        on any port, is given fixed ones now)."""
        datadir = self.root / f"node-{index}"
        if (datadir / STORE_NAME).exists():
            config = read_config(datadir)
            if config.genesis != genesis.hash:
                raise DevnetError(f"{datadir} belongs to another currency than {self.root / GENESIS_FILE}")
        else:
            store = LevelStore.open(datadir / STORE_NAME)
            try:
                if (
                    ChainManager(store, genesis_hash=genesis.hash).add_block(genesis).outcome
                    is not Outcome.APPLIED
                ):
                    raise DevnetError("the devnet's block 0 is refused")
            finally:
                store.close()
            config = NodeConfig(currency=genesis.currency, genesis=genesis.hash, listen=LOOPBACK)
        listen, api = _port_of(config.listen), _port_of(config.api)
        taken.update(port for port in (listen, api) if port)
        if not listen:
            config = replace(config, listen=f"/ip4/127.0.0.1/tcp/{free_port(taken)}")
        if not api:
            port = api_port + index if api_port else free_port(taken)
            taken.add(port)
            config = replace(config, api=f"127.0.0.1:{port}")
        write_config(datadir, config)
        return datadir

    def _link(self) -> None:
        """Write in each node's juned.toml the addresses of the first and the previous node (with
        their peer ids, kept in their data directories): the nodes find each other on resume."""
        addresses = [f"{node.config.listen}/p2p/{node.network.peer_id}" for node in self.nodes]
        for index, node in enumerate(self.nodes):
            wanted = sorted({addresses[i] for i in (0, index - 1) if 0 <= i != index})
            if node.config.bootstrap != wanted:
                node.config.bootstrap = wanted
                write_config(node.datadir, node.config)

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Start every node, link each to the ones before it, keep the founders members, and serve
        until `stop()`."""
        async with trio.open_nursery() as nursery:
            for node in self.nodes:
                await nursery.start(node.run)
            for index, node in enumerate(self.nodes[1:], start=1):
                await node.connect(self.nodes[index - 1].address)
                if index > 1:
                    await node.connect(self.nodes[0].address)
            nursery.start_soon(self._keep)
            task_status.started()

    async def _keep(self) -> None:
        with self._keeping:
            await self.keeper.run()

    async def jump(self, seconds: int, say: Callable[[str], None] | None = None) -> None:
        """Move the clock `seconds` ahead without letting the chain pass a renewal: in steps of at
        most the membership margin (and about half of maxAcceleration: a block is dated at most
        that far past the median time, which lags two steps behind), each followed by new blocks
        on every node until the renewals are written."""
        if seconds < 0:
            raise ValueError("a clock only jumps ahead")
        params = self.nodes[0].chain.params
        assert params is not None
        step = max(1, min(self.keeper.margins()[0], params.max_acceleration // 2 - 10 * params.avg_gen_time))
        remaining = seconds
        while remaining > 0:
            part = min(step, remaining)
            self.clock.jump(part)
            self._wake_forgers()
            remaining -= part
            await self._settle(params.avg_gen_time)
            self.save_clock()
            if say is not None and remaining > 0 and seconds > 4 * step:
                say(f"… {(seconds - remaining) * 100 // seconds}%: {self.view().line()}")

    async def _settle(self, avg_gen_time: int) -> None:
        """After a step of the clock: at least two new blocks (the median time follows), every node
        on the same head, and the founders' renewals valid on it written (up to `SETTLE_BLOCKS`
        blocks). The clock is kept one avgGenTime past the newest block, so that the next block is
        due at once rather than after real seconds; a fork between two forgers settles the same
        way, the yielding one waiting for the other's blocks."""
        start = max(self._numbers())
        seen: tuple[int, bytes, bytes] | None = None
        with trio.move_on_after(BLOCK_TIMEOUT):
            while True:
                head = self.nodes[0].head()
                if head != seen:
                    seen = head
                    await self.keeper.renew()
                lowest = min(self._numbers())
                agreed = len({node.head() for node in self.nodes}) == 1
                written = not self.keeper.busy() or lowest >= start + SETTLE_BLOCKS
                if agreed and lowest >= start + 2 and written:
                    return
                newest = max((h.time for node in self.nodes if (h := node.store.head())), default=0)
                if self.clock.now() < newest + avg_gen_time:
                    self.clock.jump(newest + avg_gen_time - self.clock.now())
                    self._wake_forgers()
                await trio.sleep(POLL)
        raise DevnetError(f"the nodes did not agree on new blocks within {BLOCK_TIMEOUT:g} s of the jump")

    def _wake_forgers(self) -> None:
        """The clock moved: forgers look again now rather than at their next tick."""
        for node in self.nodes:
            if node.forger is not None:
                node.forger.head_changed()

    def _numbers(self) -> list[int]:
        return [(node.head() or (-1,))[0] for node in self.nodes]

    def _saved_lead(self) -> float:
        try:
            return float(json.loads((self.root / CLOCK_FILE).read_text(encoding="utf-8"))["lead"])
        except FileNotFoundError:
            return 0.0
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "%s is damaged (%s): the clock starts from the chain's head", self.root / CLOCK_FILE, exc
            )
            return 0.0

    def save_clock(self) -> None:
        """Keep the dev clock's lead over the wall clock in the devnet's directory (atomically)."""
        path = self.root / CLOCK_FILE
        temporary = path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps({"lead": self.clock.lead()}) + "\n", encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("cannot keep the dev clock in %s: %s", path, exc)

    def stop(self) -> None:
        self._keeping.cancel()
        for node in self.nodes:
            node.stop()

    def close(self) -> None:
        if self.nodes:
            self.save_clock()
        for node in self.nodes:
            node.close()

    def view(self) -> DevnetView:
        heads = [node.head() for node in self.nodes]
        summary = self.nodes[0].store.head()
        assert summary is not None
        return DevnetView(
            clock_time=self.clock.now(),
            heights=tuple(-1 if h is None else h[0] for h in heads),
            agreed=len({h for h in heads}) == 1,
            members=summary.members_count,
            dividend=summary.dividend,
            unit_base=summary.unit_base,
            mass=summary.mass,
        )


async def show_status(devnet: Devnet, every: float, say: Callable[[str], None]) -> None:
    """Print the network's state every `every` seconds."""
    while True:
        say(devnet.view().line())
        await trio.sleep(every)


async def read_commands(devnet: Devnet, say: Callable[[str], None]) -> None:
    """Commands typed on stdin: `+3d` jumps the clock (in steps, see `Devnet.jump`), `status`
    prints a line, `quit` stops."""
    while True:
        # abandoned on cancel: a thread blocked on a terminal must not hold the devnet open
        line: str = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)  # type: ignore[call-arg]
        if not line:
            return  # no terminal (a script or CI): the clock only runs
        command = line.strip()
        if command in ("quit", "exit", "q"):
            devnet.stop()
            return
        if command in ("", "status", "s"):
            say(devnet.view().line())
            continue
        try:
            seconds = parse_jump(command)
        except ValueError as exc:
            say(str(exc))
            continue
        try:
            await devnet.jump(seconds, say)
        except DevnetError as exc:
            say(f"the jump stopped: {exc}")
            continue
        say(f"clock jumped {command[1:]} ahead")
