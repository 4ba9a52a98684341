"""`juned status`, `juned export` and `juned peers` against real `juned run` processes on 127.0.0.1,
and on stopped nodes; `/metrics` of a running node. The helpers here (`running`, `poll`…) start a
node, wait for it (bounded) and stop it; tests/node/test_run_errors.py uses them too."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

from node.chainfile import read_chain
from node.commands.live import api_url_of
from node.datadir import read_config, write_config
from protocol.documents import Block
from tests.cli import BIN, run
from tests.node.api.conftest import build_chain
from tests.node.test_network import free_port
from tests.node.test_p2p_sync import datadir

T = TypeVar("T")

#: Longest wait for a node to start answering, or for a condition between nodes.
DEADLINE = 30.0


def node_datadir(path: Path, blocks: list[Block], api_port: int | None = None) -> Path:
    """A data directory holding `blocks`, its client API at a fixed port on 127.0.0.1."""
    datadir(path, blocks)
    config = read_config(path)
    config.api = f"127.0.0.1:{api_port or free_port()}"
    write_config(path, config)
    return path


def poll(check: Callable[[], T | None], what: str, timeout: float = DEADLINE) -> T:
    """`check()`'s first result that is not None, asked every 0.1 s; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting until {what}")


class RunningNode:
    """One `juned run` process; its output goes to files (a full pipe would block it)."""

    def __init__(self, path: Path, *extra: str) -> None:
        self.datadir = path
        self.url = f"http://{read_config(path).api}"
        self.stdout = (path / "run.out").open("w")
        self.stderr = (path / "run.err").open("w")
        self.process = subprocess.Popen(
            [str(BIN / "juned"), "run", "--datadir", str(path), *extra],
            stdout=self.stdout,
            stderr=self.stderr,
            stdin=subprocess.DEVNULL,
        )

    def get(self, path: str) -> Any:
        return httpx.get(self.url + path, timeout=5).json()

    def wait_ready(self) -> "RunningNode":
        def answers() -> bool | None:
            if self.process.poll() is not None:
                raise AssertionError(f"juned run exited: {(self.datadir / 'run.err').read_text()}")
            try:
                return httpx.get(self.url + "/node", timeout=2).status_code == 200 or None
            except httpx.HTTPError:
                return None

        poll(answers, f"the node at {self.url} answers")
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.stdout.close()
        self.stderr.close()


@contextmanager
def running(path: Path, *extra: str) -> Iterator[RunningNode]:
    node = RunningNode(path, *extra)
    try:
        yield node.wait_ready()
    finally:
        node.stop()


def juned_json(*args: str) -> Any:
    result = run("juned", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def metric(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and not sample.labels:
                return float(sample.value)
    raise AssertionError(f"no metric {name}")


def test_status_export_and_peers_while_the_node_runs_and_once_it_stopped(tmp_path: Path) -> None:
    blocks = build_chain().blocks
    path = node_datadir(tmp_path / "node", blocks)
    offline_file = tmp_path / "offline.chain"
    live_file = tmp_path / "live.chain"
    with running(path) as node:
        status = juned_json("status", "--datadir", str(path))
        assert status["running"] is True
        assert status["head"]["number"] == blocks[-1].number
        assert status["head"]["hash"] == node.get("/node")["head"]["hash"]
        assert status["members"] == 5  # four founders and eve

        exported = run("juned", "export", "--datadir", str(path), str(live_file))
        assert exported.returncode == 0, exported.stderr
        assert [b.hash for b in read_chain(live_file)] == [b.hash for b in blocks]
        assert not live_file.with_name(live_file.name + ".partial").exists()

        assert juned_json("peers", "--datadir", str(path)) == []  # alone: no peers, but an answer

        metrics = httpx.get(node.url + "/metrics", timeout=5)
        assert metrics.status_code == 200
        assert metric(metrics.text, "june_head_number") == node.get("/node")["head"]["number"]
        assert metric(metrics.text, "june_peers_connected") == 0

    stopped = juned_json("status", "--datadir", str(path))
    assert stopped["running"] is False
    assert stopped["head"]["number"] == blocks[-1].number
    assert run("juned", "export", "--datadir", str(path), str(offline_file)).returncode == 0
    assert offline_file.read_bytes() == live_file.read_bytes()  # the same chain file either way
    peers = run("juned", "peers", "--datadir", str(path))
    assert peers.returncode != 0
    assert len(peers.stderr.strip().splitlines()) == 1
    assert "juned run" in peers.stderr


def test_an_explicit_api_url_is_asked_even_for_another_data_directory(tmp_path: Path) -> None:
    blocks = build_chain().blocks
    path = node_datadir(tmp_path / "node", blocks)
    with running(path) as node:
        status = juned_json("status", "--datadir", str(tmp_path / "elsewhere"), "--api", node.url)
        assert status["head"]["number"] == blocks[-1].number
    refused = run("juned", "status", "--datadir", str(path), "--api", node.url)  # stopped: nobody answers
    assert refused.returncode != 0
    assert "cannot reach" in refused.stderr and "Traceback" not in refused.stderr


def test_peers_of_two_running_nodes(tmp_path: Path) -> None:
    blocks = build_chain().blocks
    first_path = node_datadir(tmp_path / "a", blocks)
    second_path = node_datadir(tmp_path / "b", blocks[:1])
    with running(first_path) as first:
        address = first.get("/node")["p2p_address"]
        first_id = address.rsplit("/p2p/", 1)[1]
        with running(second_path, "--bootstrap", address):

            def first_seen_with_its_head() -> dict[str, Any] | None:
                rows = juned_json("peers", "--datadir", str(second_path))
                row = next((r for r in rows if r["id"] == first_id), None)
                return row if row is not None and row["head"] == blocks[-1].number else None

            row = poll(first_seen_with_its_head, "the second node lists the first with its head")
            assert row["connected"] is True
            assert row["banned_until"] is None
            assert row["score"] == 0
            assert row["latency_ms"] is not None

            text = run("juned", "peers", "--datadir", str(second_path))
            assert text.returncode == 0, text.stderr
            assert first_id[:16] in text.stdout

            second = juned_json("status", "--datadir", str(second_path))
            assert second["peers"] == 1


def test_the_api_address_of_juned_toml_becomes_a_url_to_reach_it() -> None:
    assert api_url_of("127.0.0.1:8088") == "http://127.0.0.1:8088"
    assert api_url_of("0.0.0.0:8088") == "http://127.0.0.1:8088"  # bound everywhere: asked locally
    assert api_url_of("[::]:8088") == "http://[::1]:8088"
    assert api_url_of("http://node.example:8088/") == "http://node.example:8088"
    assert api_url_of("127.0.0.1:0") is None  # the node picked a port at start: --api is needed
    assert api_url_of("") is None  # no API served
