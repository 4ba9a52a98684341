"""`juned devnet` as a user runs it: nodes forge on a fast dev clock, the dividend appears, typed
jumps move the clock, Ctrl-C and `quit` stop it cleanly, and a kept directory resumes."""

import os
import re
import signal
import sys
from datetime import date
from pathlib import Path

import pytest
import trio

from node.devnet import Devnet, parse_jump
from tests.node.test_network import free_port

JUNED = str(Path(sys.executable).with_name("juned"))


class Running:
    """A `juned devnet` process whose output is read line by line, with deadlines."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.buffer = b""
        self.lines: list[str] = []

    async def line_matching(self, pattern: str, timeout: float) -> re.Match[str]:
        assert self.process.stdout is not None
        with trio.fail_after(timeout):
            while True:
                while b"\n" in self.buffer:
                    raw, self.buffer = self.buffer.split(b"\n", 1)
                    line = raw.decode()
                    self.lines.append(line)
                    match = re.search(pattern, line)
                    if match:
                        return match
                chunk = await self.process.stdout.receive_some(4096)
                if not chunk:
                    raise AssertionError(f"devnet exited before {pattern!r}:\n" + "\n".join(self.lines))
                self.buffer += chunk

    async def send(self, text: str) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send_all(text.encode())

    async def exit_code(self, timeout: float) -> int:
        with trio.fail_after(timeout):
            return await self.process.wait()


async def start(*args: str) -> Running:
    process = await trio.lowlevel.open_process(
        [JUNED, "devnet", "--status-every", "1", "--api-port", "0", *args],
        stdin=-1,
        stdout=-1,
        stderr=-2,  # stderr into stdout
        env={**os.environ, "COLUMNS": "200"},
    )
    return Running(process)


def test_jumps_are_written_plus_count_and_unit() -> None:
    assert parse_jump("+1d") == 86400
    assert parse_jump(" +3m ") == 3 * 30 * 86400
    assert parse_jump("+2w") == 14 * 86400
    for bad in ("1d", "+d", "-1d", "+1x", "+1.5d"):
        with pytest.raises(ValueError):
            parse_jump(bad)


async def test_devnet_forges_brings_the_dividend_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    devnet = await start("--dir", str(tmp_path), "--speed", "8640")
    try:
        await devnet.line_matching("June devnet: 3 nodes", 60)
        match = await devnet.line_matching(r"block (\d+) \| members 5 \| UD [\d.]+ \| mass [1-9]", 90)
        height = int(match.group(1))
        devnet.process.send_signal(signal.SIGINT)
        await devnet.line_matching("devnet stopped", 30)
        assert await devnet.exit_code(30) == 0
    finally:
        devnet.process.kill()
    resumed = await start("--dir", str(tmp_path))
    try:
        match = await resumed.line_matching(r"block (\d+)", 60)
        assert int(match.group(1)) >= height  # the same chain, not a new currency
        await resumed.send("quit\n")
        assert await resumed.exit_code(30) == 0
    finally:
        resumed.process.kill()


async def test_typed_jump_moves_the_clock(tmp_path: Path) -> None:
    devnet = await start("--nodes", "2")
    try:
        first = await devnet.line_matching(r"dev clock (\d{4}-\d\d-\d\d)", 60)
        await devnet.send("+2m\n")  # in 15-day steps, each waiting for blocks on both nodes
        await devnet.line_matching("clock jumped 2m ahead", 60)
        later = await devnet.line_matching(r"dev clock (\d{4}-\d\d-\d\d)", 30)
        moved = date.fromisoformat(later.group(1)) - date.fromisoformat(first.group(1))
        assert moved.days >= 59
        await devnet.send("+1q\n")
        await devnet.line_matching("not a jump", 30)
        await devnet.send("quit\n")
        await devnet.line_matching("devnet stopped", 30)
        assert await devnet.exit_code(30) == 0
    finally:
        devnet.process.kill()


async def test_devnet_nodes_serve_their_api_on_consecutive_ports(tmp_path: Path) -> None:
    port = free_port()
    devnet = Devnet(tmp_path, nodes=2, api_port=port)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(devnet.run)
            assert [n.api_url for n in devnet.nodes] == [
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{port + 1}",
            ]
            devnet.stop()
    finally:
        devnet.close()
