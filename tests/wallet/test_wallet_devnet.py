"""The `june` wallet, as a member runs it, against a devnet: a newcomer publishes an identity, is
certified by five members, joins, receives UDs after the clock jumps, pays someone who sees it in
history; a member revokes their identity; the wallet fails over between nodes."""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import trio

from node.clock import Clock
from node.devnet import Devnet
from tests.node.test_p2p_sync import wait_until

JUNE = str(Path(sys.executable).with_name("june"))
DAY = 86400


class Wallet:
    def __init__(self, nodes: list[str]) -> None:
        self.nodes = nodes

    async def run(
        self, *args: str, secret: str | None = None, ok: bool = True
    ) -> "subprocess.CompletedProcess[bytes]":
        """`june --node … [--scrypt] --yes ARGS`, the credentials of dev member `secret` on stdin."""
        options = [option for url in self.nodes for option in ("--node", url)]
        if secret is not None:
            options.append("--scrypt")
        stdin = f"{secret}\n{secret}\n".encode() if secret else b""
        result = await trio.run_process(
            [JUNE, *options, "--yes", *args],
            stdin=stdin,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        if ok:
            assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
        return result

    async def json(self, *args: str, secret: str | None = None) -> Any:
        result = await self.run(*args, "--json", secret=secret)
        return json.loads(result.stdout)


async def advance(devnet: Devnet, seconds: int) -> None:
    """Move the dev clock until the chain's median time has gone `seconds` ahead on every node."""
    first = devnet.nodes[0].store.head()
    assert first is not None
    target = first.median_time + seconds
    for _ in range(30):
        if all((s := n.store.head()) is not None and s.median_time >= target for n in devnet.nodes):
            return
        head = devnet.nodes[0].store.head()
        assert head is not None
        devnet.clock.jump(max(10, target - devnet.clock.now()))
        await wait_until(
            lambda h=head.number: all(
                (s := n.store.head()) is not None and s.number > h for n in devnet.nodes
            ),
            60,
            "a new block on every node",
        )
    raise AssertionError(f"the median time did not reach {target}")


async def test_a_member_s_life_through_the_wallet(tmp_path: Path) -> None:
    devnet = Devnet(tmp_path / "devnet", nodes=2, members=6, clock=Clock(), turn_spacing=0.3)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(devnet.run)
            urls = [node.api_url for node in devnet.nodes]
            wallet = Wallet(urls[:1])
            await advance(devnet, 120)  # past the founders' certification period

            published = await wallet.json("wot", "publish", "grace", secret="grace")
            assert published["result"] == "accepted"
            for member in ("alice", "bob", "carol", "dave", "eve"):
                answer = await wallet.json("wot", "certify", "grace", secret=member)
                assert answer["result"] == "accepted"
            joined = await wallet.json("wot", "join", secret="grace")
            assert joined["result"] == "accepted"
            for _ in range(20):
                await advance(devnet, 10)
                if (await wallet.json("lookup", "grace"))["identities"][0]["status"] == "member":
                    break
            partial = await wallet.json("lookup", "GRA")  # in part, in any case
            assert [i["uid"] for i in partial["identities"]] == ["grace"]
            status = await wallet.json("wot", "status", "grace")
            assert status["status"] == "member" and len(status["certifications"]["received"]) == 5

            await advance(devnet, DAY)
            await advance(devnet, 10)
            grace = await wallet.json("balance", secret="grace")
            assert grace["balance"] > 0 and Decimal(grace["balance_ud"]) >= 1

            sent = await wallet.json("send", "alice", "5", "--comment", "merci", secret="grace")
            assert sent["results"] == ["accepted"]
            poor = await wallet.run("send", "alice", "1000000", secret="grace", ok=False)
            assert poor.returncode != 0 and b"not enough money" in poor.stderr
            for _ in range(10):
                await advance(devnet, 10)
                history = (await wallet.json("history", "alice"))["history"]
                if any(e["kind"] == "received" and e["comment"] == "merci" for e in history):
                    break
            received = next(e for e in history if e["comment"] == "merci")
            assert received["amount"] == 500
            followed = await wallet.json("document", *sent["transactions"])
            assert [d["state"] for d in followed["documents"]] == ["written"]
            shown = (await wallet.run("document", sent["transactions"][0])).stdout.decode()
            assert f"written in block #{followed['documents'][0]['block']}" in shown
            csv_text = (await wallet.run("history", "alice", "--csv")).stdout.decode()
            assert "merci" in csv_text.splitlines()[1]

            revocation = tmp_path / "frank-revocation.cbor"
            await wallet.run("wot", "revocation", "create", str(revocation), secret="frank")
            assert (await wallet.json("wot", "revocation", "publish", str(revocation)))[
                "result"
            ] == "accepted"
            for _ in range(10):
                await advance(devnet, 10)
                if (await wallet.json("lookup", "frank"))["identities"][0]["status"] == "revoked":
                    break
            assert (await wallet.json("lookup", "frank"))["identities"][0]["status"] == "revoked"

            failover = Wallet(["http://127.0.0.1:9", *urls])
            money = await failover.run("money", "--json")
            assert json.loads(money.stdout)["members"] == 6  # frank revoked, grace joined
            assert b"does not answer" in money.stderr
            both = await Wallet(urls).json("node")
            assert both["agree"] in (True, False) and len(both["nodes"]) == 2
            devnet.stop()
    finally:
        devnet.close()
