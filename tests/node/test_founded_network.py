"""A tiers-lieu network from nothing, as its operators would build it (issue 16), with real processes.

Six people with freshly generated keys (no dev keys) found a currency they name, under Ğ1's rules
(`g1`: five certifications each); three of them run forging nodes from its block 0, which forge and
converge; a fourth node joins by address alone and syncs; `juned status`, `juned peers` and `juned
export` answer while the nodes run, the export audits clean, and `/metrics` shows the head. Time is
driven by a dev clock the four processes share (`juned run --dev-clock`): under Ğ1's rules a block
comes every five minutes, so the test moves the clock five minutes at a time.
"""

import json
import os
from pathlib import Path
from typing import Any

import httpx

from node.clockfile import DevClockFile
from tests.cli import run
from tests.node.test_found_command import FOUNDERS, PASSPHRASE, june_all, ok
from tests.node.test_live_commands import RunningNode, metric, poll
from tests.node.test_network import free_port

CURRENCY = "tiers-lieux-de-rennes"
#: Ğ1's avgGenTime: a forger waits this long after the head's time.
BLOCK_TIME = 300
FORGERS = FOUNDERS[:3]


def found_currency(root: Path) -> tuple[Path, str]:
    """The ceremony: keys, identities, certifications, then block 0 (dated now) by the first founder."""
    keys = {uid: root / f"{uid}.key" for uid in FOUNDERS}
    june_all([("keys", "generate", "--file", str(key)) for key in keys.values()])
    identities = {uid: root / f"{uid}.identity" for uid in FOUNDERS}
    june_all(
        [
            (
                "--key-file",
                str(keys[uid]),
                "found",
                "identity",
                uid,
                "--currency",
                CURRENCY,
                "--out",
                str(path),
            )
            for uid, path in identities.items()
        ]
    )
    certifications = [root / f"{uid}.certifications" for uid in FOUNDERS]
    june_all(
        [
            (
                "--key-file",
                str(keys[uid]),
                "--yes",
                "found",
                "certify",
                *(str(identities[other]) for other in FOUNDERS if other != uid),
                "--out",
                str(out),
            )
            for uid, out in zip(FOUNDERS, certifications, strict=True)
        ]
    )
    chain = root / "chain.june"
    founded = ok(
        run(
            "juned",
            "found",
            "--currency",
            CURRENCY,
            "--params",
            "g1",
            "--key-file",
            str(keys[FOUNDERS[0]]),
            "--out",
            str(chain),
            "--json",
            *map(str, identities.values()),
            *map(str, certifications),
            stdin=PASSPHRASE + "\n",
        )
    )
    return chain, str(json.loads(founded.stdout)["genesis"])


def juned_json(*args: str) -> Any:
    return json.loads(ok(run("juned", *args, "--json")).stdout)


def heads(nodes: list[RunningNode]) -> list[tuple[int, str]]:
    summaries = [node.get("/node")["head"] for node in nodes]
    return [(s["number"], s["hash"]) for s in summaries]


def said_by(node: RunningNode) -> str:
    return (node.datadir / "run.out").read_text() + (node.datadir / "run.err").read_text()


def test_a_tiers_lieu_network_founded_forged_joined_and_operated(tmp_path: Path) -> None:
    chain, genesis_hash = found_currency(tmp_path)
    clock_path = tmp_path / "clock.json"
    clock = DevClockFile(clock_path)
    nodes: list[RunningNode] = []
    try:
        addresses: list[str] = []  # each node dials every earlier one: any one may go down
        for uid in FORGERS:
            datadir = tmp_path / f"node-{uid}"
            p2p, api = free_port(), free_port()
            ok(
                run(
                    "juned",
                    "init",
                    "--datadir",
                    str(datadir),
                    "--genesis",
                    str(chain),
                    "--listen",
                    f"/ip4/127.0.0.1/tcp/{p2p}",
                    "--api",
                    f"127.0.0.1:{api}",
                )
            )
            secret = tmp_path / f"{uid}.passphrase"
            secret.write_text(PASSPHRASE + "\n")
            os.chmod(secret, 0o600)
            options = ["--key-file", str(tmp_path / f"{uid}.key"), "--passphrase-file", str(secret)]
            options += ["--dev-clock", str(clock_path)]
            options += [option for address in addresses for option in ("--bootstrap", address)]
            nodes.append(RunningNode(datadir, *options).wait_ready())
            addresses.append(str(nodes[-1].get("/node")["p2p_address"]))
        for node in nodes:
            assert "forging as" in said_by(node), said_by(node)

        # The clock moves five minutes at a time; each step, a block, the same on every node.
        for _ in range(4):
            before = max(number for number, _hash in heads(nodes))
            clock.jump(BLOCK_TIME)
            poll(
                lambda b=before: (len(set(h := heads(nodes))) == 1 and h[0][0] > b) or None,
                "a new block on every forging node",
                timeout=60,
            )
        assert heads(nodes)[0][0] >= 4

        # The fastest prover may well have forged every block: its node goes down and another
        # tiers-lieu's member takes over, which is what several forging nodes are for.
        before_outage = heads(nodes)[0][0]
        last_issuer = nodes[0].get("/node")["head"]["issuer"].split(":")[0]
        down = next(node for node in nodes if f"({last_issuer[:8]}" in said_by(node))
        down.stop()
        nodes.remove(down)
        clock.jump(BLOCK_TIME)
        poll(
            lambda: (len(set(h := heads(nodes))) == 1 and h[0][0] > before_outage) or None,
            "a new block forged without the node that went down",
            timeout=60,
        )
        head_number, head_hash = heads(nodes)[0]
        issuers = {nodes[0].get(f"/blocks/{n}")["issuer"] for n in range(1, head_number + 1)}
        assert len(issuers) >= 2  # members take turns
        address = str(nodes[0].get("/node")["p2p_address"])

        # A fourth tiers-lieu joins by address alone, checking the genesis hash it was given.
        joiner_dir = tmp_path / "node-joiner"
        ok(
            run(
                "juned",
                "init",
                "--datadir",
                str(joiner_dir),
                "--join",
                address,
                "--genesis-hash",
                genesis_hash,
                "--listen",
                f"/ip4/127.0.0.1/tcp/{free_port()}",
                "--api",
                f"127.0.0.1:{free_port()}",
            )
        )
        joiner = RunningNode(joiner_dir, "--dev-clock", str(clock_path)).wait_ready()
        nodes.append(joiner)
        poll(lambda: heads([joiner]) == [(head_number, head_hash)] or None, "the joiner synced", timeout=60)

        # Operating them while they run.
        status = juned_json("status", "--datadir", str(nodes[0].datadir))
        assert status["running"] is True and status["currency"] == CURRENCY
        assert status["head"]["number"] == head_number and status["members"] == len(FOUNDERS)

        def two_peers() -> list[dict[str, Any]] | None:
            rows: list[dict[str, Any]] = juned_json("peers", "--datadir", str(nodes[0].datadir))
            return rows if len([row for row in rows if row["connected"]]) >= 2 else None

        peers = poll(two_peers, "the first node sees the other forger and the joiner")
        assert all(row["score"] == 0 for row in peers)
        exported = tmp_path / "exported.june"
        ok(run("juned", "export", "--datadir", str(joiner_dir), str(exported)))
        audit = juned_json("audit", "--chain", str(exported))
        assert audit["verdict"] == "valid", audit
        metrics = httpx.get(nodes[0].url + "/metrics", timeout=5).text
        assert metric(metrics, "june_head_number") == head_number
        assert metric(metrics, "june_members") == len(FOUNDERS)
    finally:
        for node in nodes:
            node.stop()
