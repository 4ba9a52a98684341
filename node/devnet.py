"""A local development network: N nodes of a `dev` currency in one process, sharing one clock.

The first nodes forge as the dev founders (alice, bob, …, whose keys are public); the others only
relay and validate. The shared clock can run faster than real time and can jump ahead on demand,
so that a user watches months of dividends, reevaluations, expiries and exclusions in minutes.
A devnet directory is kept between runs: starting again resumes the same currency.
"""

import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from node.chain import ChainManager, Outcome
from node.clock import Clock
from node.commands.data import dev_block_zero
from node.datadir import STORE_NAME, NodeConfig, read_config, write_config
from node.errors import NodeError
from node.node import Node
from node.store import LevelStore
from protocol.amounts import format_cents
from protocol.documents import Block
from protocol.genesis import DEV_NAMES, dev_keypair

log = logging.getLogger("june.devnet")

GENESIS_FILE = "block0.cbor"
LOOPBACK = "/ip4/127.0.0.1/tcp/0"
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
        genesis = self._genesis(members)
        self.nodes: list[Node] = []
        try:
            for index in range(nodes):
                datadir = self._datadir(index, genesis)
                forger = dev_keypair(DEV_NAMES[index]) if index < members else None
                self.nodes.append(
                    Node(
                        datadir,
                        forger=forger,
                        clock=self.clock,
                        cpu_share=cpu_share,
                        turn_spacing=turn_spacing,
                        api=f"127.0.0.1:{api_port + index if api_port else 0}",
                    )
                )
        except BaseException:
            self.close()
            raise
        self.names = [DEV_NAMES[i] if i < members else f"relay-{i}" for i in range(nodes)]

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

    def _datadir(self, index: int, genesis: Block) -> Path:
        datadir = self.root / f"node-{index}"
        if (datadir / STORE_NAME).exists():
            if read_config(datadir).genesis != genesis.hash:
                raise DevnetError(f"{datadir} belongs to another currency than {self.root / GENESIS_FILE}")
            return datadir
        store = LevelStore.open(datadir / STORE_NAME)
        try:
            if (
                ChainManager(store, genesis_hash=genesis.hash).add_block(genesis).outcome
                is not Outcome.APPLIED
            ):
                raise DevnetError("the devnet's block 0 is refused")
        finally:
            store.close()
        write_config(datadir, NodeConfig(currency=genesis.currency, genesis=genesis.hash, listen=LOOPBACK))
        return datadir

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Start every node, link each to the ones before it, and serve until `stop()`."""
        async with trio.open_nursery() as nursery:
            for node in self.nodes:
                await nursery.start(node.run)
            for index, node in enumerate(self.nodes[1:], start=1):
                await node.connect(self.nodes[index - 1].address)
                if index > 1:
                    await node.connect(self.nodes[0].address)
            task_status.started()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def close(self) -> None:
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
    """Commands typed on stdin: `+3d` jumps the clock, `status` prints a line, `quit` stops."""
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
        devnet.clock.jump(seconds)
        say(f"clock jumped {command[1:]} ahead")
