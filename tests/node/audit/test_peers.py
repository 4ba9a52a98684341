"""`juned audit` with peers: download a chain over libp2p and verify it; cross-check peers and name
the ones on another branch or another currency."""

import json
import sys
from pathlib import Path

import trio

from node.node import Node
from tests.node.test_chain import grow, twins
from tests.node.test_network import running
from tests.node.test_p2p_sync import datadir
from tests.protocol.chain_builder import Chain

JUNED = str(Path(sys.executable).with_name("juned"))


async def juned_audit(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = await trio.run_process(
        [JUNED, "audit", "--json", "--workers", "0", *args],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


async def test_downloads_from_peers_verifies_and_names_who_disagrees(tmp_path: Path) -> None:
    ours, fork = twins(3)
    grow(ours, 4, "alice", 20)
    grow(fork, 5, "bob", 20)
    other_currency = Chain(founders=5)  # another block 0
    nodes = [
        Node(datadir(tmp_path / "a", ours.blocks), api=""),
        Node(datadir(tmp_path / "b", ours.blocks), api=""),
        Node(datadir(tmp_path / "fork", fork.blocks), api=""),
        Node(datadir(tmp_path / "other", other_currency.blocks), api=""),
    ]
    async with running(nodes):
        a, b, forked, other = (n.address for n in nodes)
        code, report = await juned_audit("--peer", a, "--peer", b, "--cross-check", a, "--cross-check", b)
        assert code == 0, report
        assert report["blocks"]["read"] == len(ours.blocks) and report["verdict"] == "valid"
        assert [v["agrees"] for v in report["cross_check"]] == [True, True]

        code, report = await juned_audit("--peer", a, "--cross-check", forked, "--cross-check", other)
        assert code == 1
        fork_verdict, other_verdict = report["cross_check"]
        assert not fork_verdict["agrees"] and "block 4 differs" in fork_verdict["reason"]
        assert not other_verdict["agrees"] and "another currency" in other_verdict["reason"]

        code, report = await juned_audit("--peer", "/ip4/127.0.0.1/tcp/9/p2p/" + nodes[0].network.peer_id)
        assert code == 2 and "no peer could be reached" in report["error"]
