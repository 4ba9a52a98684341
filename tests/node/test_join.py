"""Joining a network: `juned init --join` fetches block 0 from a peer, validates it and checks it
against the hash the operator was given; `--genesis` takes a raw block file as well as a chain file;
a chain file of another currency is refused by `juned import`.

The process tests run real `juned` processes on 127.0.0.1 only, with bounded waits."""

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import multiaddr
import pytest
import trio
from click.testing import CliRunner
from libp2p.io.msgio import VarIntLengthMsgReadWriter

from node.chainfile import ChainFileError, read_block_zero, write_chain
from node.cli import juned
from node.commands.data import dev_block_zero, refusal_of_block_zero
from node.node import Node
from node.p2p.client import PeerAnswerError, UnreachablePeer, fetch_block_zero
from node.p2p.host import load_or_create_identity, make_host
from node.p2p.messages import Status, encode_blocks, encode_status
from node.p2p.network import STATUS_PROTOCOL, sync_protocol
from protocol.crypto import Hash, hash_hex
from tests.cli import BIN, run
from tests.node.test_live_commands import poll
from tests.node.test_network import free_port
from tests.node.test_p2p_sync import datadir

START = 1_700_000_000
BANNER = re.compile(r"node listening on (\S+)")
API = re.compile(r"client API on (\S+)")


@pytest.fixture(scope="module")
def block_zero() -> Any:
    return dev_block_zero(5, START)


# --- files ---------------------------------------------------------------------------------------


def test_block_zero_is_read_from_a_chain_file_or_a_raw_block_file(tmp_path: Path, block_zero: Any) -> None:
    chain = tmp_path / "dev.chain"
    write_chain(chain, [block_zero.to_bytes()])
    raw = tmp_path / "block0.cbor"
    raw.write_bytes(block_zero.to_bytes())
    assert read_block_zero(chain).hash == block_zero.hash
    assert read_block_zero(raw).hash == block_zero.hash


def test_files_without_a_block_zero_are_refused_in_one_line(tmp_path: Path, block_zero: Any) -> None:
    empty_chain = tmp_path / "empty.chain"
    write_chain(empty_chain, [])
    cases = {
        "empty": b"",
        "junk": b"not a block at all",
        "cut": block_zero.to_bytes()[:-3],
        "empty.chain": empty_chain.read_bytes(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ChainFileError) as refused:
            read_block_zero(path)
        assert str(path) in str(refused.value) and "\n" not in str(refused.value)
        result = CliRunner().invoke(
            juned, ["init", "--datadir", str(tmp_path / f"d-{name}"), "--genesis", str(path)]
        )
        assert result.exit_code == 1 and str(path) in result.output, result.output
        assert not (tmp_path / f"d-{name}" / "db").exists()


def test_init_from_a_raw_block_file(tmp_path: Path, block_zero: Any) -> None:
    raw = tmp_path / "block0.cbor"
    raw.write_bytes(block_zero.to_bytes())
    datadir = tmp_path / "node"
    result = CliRunner().invoke(juned, ["init", "--datadir", str(datadir), "--genesis", str(raw), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["genesis"] == hash_hex(block_zero.hash)


def test_import_of_another_currency_s_chain_is_refused(tmp_path: Path, block_zero: Any) -> None:
    datadir = tmp_path / "node"
    runner = CliRunner()
    assert (
        runner.invoke(
            juned, ["init", "--datadir", str(datadir), "--dev", "5", "--time", str(START + 1)]
        ).exit_code
        == 0
    )
    other = tmp_path / "other.chain"
    write_chain(other, [block_zero.to_bytes()])  # a dev currency too, of another block 0
    result = runner.invoke(juned, ["import", "--datadir", str(datadir), str(other)])
    assert result.exit_code == 1
    assert f"{other} is a chain of currency" in result.output and "this node keeps" in result.output
    empty = tmp_path / "empty.chain"
    write_chain(empty, [])
    result = runner.invoke(juned, ["import", "--datadir", str(datadir), str(empty)])
    assert result.exit_code == 1 and "holds no block" in result.output


def test_a_forged_block_zero_is_refused_with_its_reason(block_zero: Any) -> None:
    assert refusal_of_block_zero(block_zero) is None
    tampered = replace(block_zero, members_count=block_zero.members_count + 1)
    assert refusal_of_block_zero(tampered)


# --- processes -----------------------------------------------------------------------------------


@contextmanager
def juned_run(datadir: Path, *options: str) -> Iterator[tuple[str, str]]:
    """A `juned run` process on 127.0.0.1: yields (its p2p address, its API URL) once its banner
    is out (within 60 s), and stops it with SIGTERM (then SIGKILL) at the end."""
    process = subprocess.Popen(
        [
            str(BIN / "juned"),
            "run",
            "--datadir",
            str(datadir),
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api",
            "127.0.0.1:0",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        address = url = ""
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while not (address and url):
            if time.monotonic() > deadline:
                raise AssertionError(f"juned run {datadir} printed no banner within 60 s")
            line = process.stdout.readline()  # the banner comes within the deadline or never
            if not line:
                raise AssertionError(f"juned run {datadir} exited with {process.wait()}")
            if found := BANNER.search(line):
                address = found.group(1)
            if found := API.search(line):
                url = found.group(1)
        yield address, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def node_summary(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/node", timeout=5) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_join_by_address_then_sync_to_the_same_head(tmp_path: Path) -> None:
    founder, joiner = tmp_path / "A", tmp_path / "B"
    assert run("juned", "init", "--datadir", str(founder), "--dev", "5").returncode == 0
    with juned_run(founder, "--dev-member", "alice") as (address, url):
        assert "/ip4/127.0.0.1/tcp/" in address and "/p2p/" in address
        genesis = node_summary(url)["genesis"]
        poll(lambda: node_summary(url)["head"]["number"] >= 1 or None, "the founder forges block 1", 60)

        wrong = run(
            "juned", "init", "--datadir", str(tmp_path / "C"), "--join", address, "--genesis-hash", "00" * 32
        )
        assert "refused" in one_line_refusal(wrong) and genesis in wrong.stderr
        assert not (tmp_path / "C" / "db").exists()

        unconfirmed = run("juned", "init", "--datadir", str(tmp_path / "D"), "--join", address)
        assert "--genesis-hash" in one_line_refusal(unconfirmed)

        joined = run(
            "juned",
            "init",
            "--datadir",
            str(joiner),
            "--join",
            address,
            "--genesis-hash",
            genesis.lower(),
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api",
            "127.0.0.1:0",
        )
        assert joined.returncode == 0, joined.stderr
        assert f'bootstrap = ["{address}"]' in (joiner / "juned.toml").read_text()
        with juned_run(joiner) as (_address, joiner_url):

            def same_head() -> bool:
                return bool(node_summary(joiner_url)["head"]["hash"] == node_summary(url)["head"]["hash"])

            poll(lambda: same_head() or None, "the joiner reaches the founder's head", 60)
            assert node_summary(joiner_url)["head"]["number"] >= 1


def test_join_fails_in_one_line_on_a_closed_port_or_a_silent_peer(tmp_path: Path) -> None:
    peer = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
    closed = f"/ip4/127.0.0.1/tcp/{free_port()}/p2p/{peer}"
    started = time.monotonic()
    result = run(
        "juned", "init", "--datadir", str(tmp_path / "A"), "--join", closed, "--yes", "--timeout", "5"
    )
    assert "cannot join" in one_line_refusal(result) and closed in result.stderr
    assert time.monotonic() - started < 30
    with socket.socket() as silent:  # accepts TCP connections (the kernel does) and says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"/ip4/127.0.0.1/tcp/{silent.getsockname()[1]}/p2p/{peer}"
        started = time.monotonic()
        result = run(
            "juned", "init", "--datadir", str(tmp_path / "B"), "--join", address, "--yes", "--timeout", "3"
        )
        assert "cannot join" in one_line_refusal(result)
        assert time.monotonic() - started < 30
    assert not (tmp_path / "A" / "db").exists() and not (tmp_path / "B" / "db").exists()
    bad = run("juned", "init", "--datadir", str(tmp_path / "C"), "--join", "/ip4/127.0.0.1/tcp/7777", "--yes")
    assert "not a full peer address" in one_line_refusal(bad)


def test_fetch_block_zero_raises_typed_errors() -> None:
    async def main() -> None:
        with pytest.raises(UnreachablePeer):
            await fetch_block_zero("/ip4/127.0.0.1/tcp/1", timeout=2)
        address = f"/ip4/127.0.0.1/tcp/{free_port()}/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
        with pytest.raises((UnreachablePeer, PeerAnswerError)):
            await fetch_block_zero(address, timeout=2)

    trio.run(main)


# --- hostile peers -------------------------------------------------------------------------------


class FakePeer:
    """A libp2p host on 127.0.0.1, in its own thread, answering status and block requests with
    what a test gives (`status`, `blocks`: raw answer frames), as a lying or broken peer would."""

    def __init__(self, directory: Path, status: bytes, blocks: bytes) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.host = make_host(load_or_create_identity(directory))
        self.answers = {STATUS_PROTOCOL: status}
        self.blocks = blocks
        self.address = ""
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=trio.run, args=(self._serve,), daemon=True)

    def start(self, genesis: Hash) -> str:
        self.answers[sync_protocol(genesis)] = self.blocks
        self._thread.start()
        assert self._ready.wait(30), "the fake peer did not start"
        return self.address

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _serve(self) -> None:
        async with self.host.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
            for protocol, answer in self.answers.items():
                self.host.set_stream_handler(protocol, self._handler(answer))
            self.address = str(self.host.get_addrs()[0])
            self._ready.set()
            while not self._stop.is_set():
                await trio.sleep(0.05)

    @staticmethod
    def _handler(answer: bytes) -> Callable[[Any], Awaitable[None]]:
        async def handle(stream: Any) -> None:
            frames = VarIntLengthMsgReadWriter(stream, max_msg_size=1 << 20)
            with contextlib.suppress(Exception):
                await frames.read_msg()
                await frames.write_msg(answer)
                await stream.close()

        return handle


def status_of(block: Any) -> bytes:
    return encode_status(Status(block.hash, 0, block.hash, block.median_time, block.state_digest))


def test_a_forged_block_zero_from_a_peer_is_refused_with_its_reason(tmp_path: Path, block_zero: Any) -> None:
    forged = replace(block_zero, members_count=block_zero.members_count + 1)  # its signature no longer holds
    peer = FakePeer(tmp_path / "peer", status_of(forged), encode_blocks([forged.to_bytes()]))
    address = peer.start(forged.hash)
    try:
        result = CliRunner().invoke(
            juned,
            ["init", "--datadir", str(tmp_path / "node"), "--join", address, "--yes", "--timeout", "10"],
        )
        assert result.exit_code == 1
        assert "sent an invalid block 0, refused" in result.output, result.output
        assert not (tmp_path / "node" / "db").exists()
    finally:
        peer.stop()


def test_a_peer_answering_junk_is_refused_in_one_line(tmp_path: Path, block_zero: Any) -> None:
    for name, status, blocks in [
        ("junk status", b"\xff\x00junk", b""),
        ("another block", status_of(block_zero), encode_blocks([dev_block_zero(5, START + 7).to_bytes()])),
        ("no block", status_of(block_zero), encode_blocks([])),
        ("junk block", status_of(block_zero), encode_blocks([b"\x82\x00\x00"])),
    ]:
        peer = FakePeer(tmp_path / name, status, blocks)
        address = peer.start(block_zero.hash)
        try:
            result = CliRunner().invoke(
                juned,
                [
                    "init",
                    "--datadir",
                    str(tmp_path / f"node {name}"),
                    "--join",
                    address,
                    "--yes",
                    "--timeout",
                    "10",
                ],
            )
            assert result.exit_code == 1, (name, result.output)
            assert result.output.startswith("Error: cannot join:") and result.output.count("\n") == 1, (
                result.output
            )
        finally:
            peer.stop()


async def test_a_node_serves_its_block_zero_to_a_joiner(tmp_path: Path, block_zero: Any) -> None:
    node = Node(datadir(tmp_path / "node", [block_zero]), api="")
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            status, served = await fetch_block_zero(node.address, timeout=20)
            assert served.to_bytes() == block_zero.to_bytes() and status.genesis == block_zero.hash
            node.stop()
    finally:
        node.close()
