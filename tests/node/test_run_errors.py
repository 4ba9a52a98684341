"""`juned run` says why it cannot run in one plain line (no traceback): a busy port, a missing data
directory, a data directory held by another running juned; failures inside Trio's exception groups
are described by their real reason; `-v`/`-vv` keep third-party loggers quiet."""

import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from node.commands.run import configure_logging, node_failure
from node.errors import NodeError
from node.failures import AddressInUse, describe_exception, host_port
from node.p2p.network import PeerFailed
from tests.cli import run
from tests.node.api.conftest import build_chain
from tests.node.test_live_commands import free_port, node_datadir, running

LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \S+ [A-Z]+ ")


def said(stderr: str) -> list[str]:
    """What `juned run` said on stderr besides its log records (which `run` shows from -v up)."""
    return [line for line in stderr.splitlines() if line.strip() and not LOG_RECORD.match(line)]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port of 127.0.0.1 that something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_busy_api_port_is_one_line(tmp_path: Path, busy_port: int) -> None:
    path = node_datadir(tmp_path / "node", build_chain().blocks[:1], api_port=busy_port)
    result = run("juned", "run", "--datadir", str(path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert said(result.stderr) == [
        f"Error: port {busy_port} is already in use: the client API cannot listen on "
        f"127.0.0.1:{busy_port}; stop what uses it or choose another address"
    ]


def test_a_busy_p2p_port_is_one_line(tmp_path: Path, busy_port: int) -> None:
    path = node_datadir(tmp_path / "node", build_chain().blocks[:1])
    result = run("juned", "run", "--datadir", str(path), "--listen", f"/ip4/127.0.0.1/tcp/{busy_port}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = said(result.stderr)
    assert len(lines) == 1
    assert f"port {busy_port} is already in use" in lines[0] and "p2p listener" in lines[0]


def test_a_missing_data_directory_is_one_line(tmp_path: Path) -> None:
    result = run("juned", "run", "--datadir", str(tmp_path / "nothing"))
    assert result.returncode != 0
    lines = said(result.stderr)
    assert len(lines) == 1
    assert "is not a June data directory" in lines[0] and "juned init" in lines[0]


def test_a_data_directory_used_by_a_running_juned_is_one_line_with_its_pid(tmp_path: Path) -> None:
    path = node_datadir(tmp_path / "node", build_chain().blocks[:1])
    with running(path) as node:
        second = run("juned", "run", "--datadir", str(path), "--api", f"127.0.0.1:{free_port()}")
        assert second.returncode != 0
        assert "Traceback" not in second.stderr
        assert said(second.stderr) == [
            f"Error: {path} is used by another running juned (pid {node.process.pid}): stop it first, or "
            "ask it through its client API (`juned status`, `juned export` and `juned peers` do)"
        ]
        revert = run("juned", "revert", "--datadir", str(path), "1")  # any other command: one line too
        assert revert.returncode != 0
        assert said(revert.stderr) == [f"error: {said(second.stderr)[0].removeprefix('Error: ')}"]


def test_a_failure_inside_nested_exception_groups_is_described_by_its_reason() -> None:
    inner = ConnectionResetError("the peer hung up")
    group = ExceptionGroup("Exceptions from Trio nursery (1 sub-exception)", [ExceptionGroup("x", [inner])])
    assert describe_exception(group) == "ConnectionResetError: the peer hung up"
    try:
        try:
            raise group
        except ExceptionGroup as exc:
            raise PeerFailed(f"peer Qm: {exc}") from exc
    except PeerFailed as wrapped:
        assert describe_exception(wrapped) == "peer Qm: ConnectionResetError: the peer hung up"
    several = ExceptionGroup("two", [ValueError("a"), ValueError("a"), KeyError("k")])
    assert describe_exception(several) == "ValueError: a; KeyError: 'k'"
    assert describe_exception(NodeError("the disk is full")) == "the disk is full"
    assert describe_exception(trio.TooSlowError()) == "TooSlowError"


def test_node_failure_finds_the_node_error_or_the_busy_port_in_groups() -> None:
    busy = AddressInUse("client API", "127.0.0.1:8088", 8088)
    assert node_failure(ExceptionGroup("g", [ExceptionGroup("h", [busy])])) is busy
    raw = OSError(98, "Address already in use")
    found = node_failure(ExceptionGroup("g", [raw]))
    assert found is not None and "already in use" in str(found)
    assert node_failure(ExceptionGroup("g", [ValueError("a bug")])) is None  # a bug keeps its traceback


def test_host_port_reads_both_address_forms() -> None:
    assert host_port("127.0.0.1:8088") == ("127.0.0.1", 8088)
    assert host_port("/ip4/0.0.0.0/tcp/7777") == ("0.0.0.0", 7777)
    assert host_port("[::1]:8088") == ("::1", 8088)
    assert host_port("nonsense") is None


def test_verbosity_keeps_third_party_loggers_quiet_below_vvv(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    propagate = logging.getLogger("libp2p").propagate
    try:
        configure_logging(2)
        handler = next(h for h in root.handlers if getattr(h, "june_verbosity", False))

        def shown(name: str, level: int) -> bool:
            record = logging.LogRecord(name, level, __file__, 1, "message", None, None)
            return all(f.filter(record) for f in handler.filters)

        assert shown("june.sync", logging.DEBUG) and shown("node.api", logging.DEBUG)
        assert not shown("libp2p.network.auto_connector", logging.INFO)
        assert not shown("multiaddr", logging.DEBUG) and shown("multiaddr", logging.WARNING)
        configure_logging(1)
        assert shown("june.intake", logging.INFO) and not shown("june.sync", logging.DEBUG)
        group = ExceptionGroup("Exceptions from Trio nursery (1 sub-exception)", [EOFError("stream closed")])
        record = logging.LogRecord(
            "june.p2p", logging.INFO, __file__, 1, "status of %s: %s", ("Qm", group), None
        )
        assert all(f.filter(record) for f in handler.filters)
        assert record.getMessage() == "status of Qm: EOFError: stream closed"
        configure_logging(3)
        assert shown("libp2p.network.swarm", logging.DEBUG)
        assert len([h for h in root.handlers if getattr(h, "june_verbosity", False)]) == 1
    finally:
        for handler in [h for h in root.handlers if getattr(h, "june_verbosity", False)]:
            root.removeHandler(handler)
        logging.getLogger("libp2p").propagate = propagate
        for name in ("june", "node", "libp2p", "multiaddr", "hypercorn"):
            logging.getLogger(name).setLevel(logging.NOTSET)
