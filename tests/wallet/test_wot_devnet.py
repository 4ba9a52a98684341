"""The wallet's web-of-trust side through real `june` processes on a devnet, in one story to keep
it fast: a revocation file made, checked, published, then refused as already used; the status of
a leaving member and of revoked ones (one by `wot revoke`); `june check` for cron; `blocks`,
`difficulty`, `licence`."""

import json
import stat
from pathlib import Path

import pytest
import trio

from node.clock import Clock
from node.devnet import Devnet
from tests.wallet.test_wallet_devnet import DAY, Wallet, advance
from wallet.revocation_file import BEGIN, END


async def wait_for_state(
    devnet: Devnet, wallet: Wallet, who: str, done: str, *, leaving: bool = False
) -> None:
    """Let blocks come until `who`'s status is `done` (and its membership leaving, if asked)."""
    for _ in range(20):
        status = await wallet.json("wot", "status", who)
        if status["status"] == done and (not leaving or (status["membership"] or {}).get("leaving")):
            return
        await advance(devnet, 10)
    raise AssertionError(f"{who} never became {done}{' (leaving)' if leaving else ''}: {status}")


async def test_revocation_status_check_and_chain_views(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, folder in (("JUNE_STATE_DIR", "state"), ("XDG_STATE_HOME", "xdg-state")):
        monkeypatch.setenv(variable, str(tmp_path / folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    devnet = Devnet(tmp_path / "devnet", nodes=1, members=6, clock=Clock(), turn_spacing=0.3)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(devnet.run)
            wallet = Wallet([devnet.nodes[0].api_url])
            await advance(devnet, 120)

            # a revocation file: text, private, checked against the node
            path = tmp_path / "frank.revocation"
            await wallet.run("wot", "revocation", "create", str(path), secret="frank")
            text = path.read_text()
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert (
                text.startswith("June revocation") and "Uid: frank" in text and BEGIN in text and END in text
            )
            verdict = await wallet.json("wot", "revocation", "verify", str(path))
            assert verdict["valid"] and verdict["uid"] == "frank" and verdict["problems"] == []
            again = await wallet.run("wot", "revocation", "create", str(path), secret="frank", ok=False)
            assert again.returncode == 2 and path.read_text() == text

            # eve leaves, frank's revocation is published
            left = await wallet.json("wot", "leave", secret="eve")
            assert left["result"] in ("accepted", "waiting")
            published = await wallet.json("wot", "revocation", "publish", str(path))
            assert published["result"] == "accepted"
            revoked = await wallet.json("wot", "revoke", secret="dave")  # create and publish at once
            assert revoked["result"] == "accepted" and revoked["kind"] == "revocation"
            await wait_for_state(devnet, wallet, "frank", "revoked")
            await wait_for_state(devnet, wallet, "dave", "revoked")
            if left["result"] == "waiting":
                await advance(devnet, DAY)
            await wait_for_state(devnet, wallet, "eve", "member", leaving=True)

            used = await wallet.run("wot", "revocation", "verify", str(path), ok=False)
            assert used.returncode == 3 and b"already revoked" in used.stdout
            eve = (await wallet.run("wot", "status", "eve")).stdout.decode()
            assert "member leaving (no renewal; membership ends in " in eve
            frank = (await wallet.run("wot", "status", "frank")).stdout.decode()
            assert "revoked (" in frank and " ago, " in frank
            standing = await wallet.json("wot", "status", "frank")
            assert standing["standing"].startswith("revoked (") and standing["revoked_on"] is not None

            # june check: the founders' memberships last 60 days
            late = await wallet.run("check", "alice", "--days", "90", ok=False)
            assert late.returncode == 3 and b"june wot renew" in late.stdout
            problems = json.loads(
                (await wallet.run("check", "alice", "--days", "90", "--json", ok=False)).stdout
            )
            assert [p["problem"] for p in problems["problems"]] == ["membership"]
            fine = await wallet.run("check", "alice", "--days", "5")
            assert fine.stdout.decode().startswith("all good")
            journal = (tmp_path / "state" / "sent.jsonl").read_text().splitlines()
            assert {json.loads(line).get("kind") for line in journal} >= {"revocation", "membership"}

            # the chain as a member watches it
            head = devnet.nodes[0].store.head()
            assert head is not None
            shown = (await wallet.json("blocks", "--last", "3"))["blocks"]
            assert len(shown) == 3 and shown[-1]["number"] >= head.number
            assert (await wallet.json("blocks", "--from", "0", "--limit", "2"))["blocks"][0]["number"] == 0
            assert "alice" in (await wallet.run("blocks")).stdout.decode()
            difficulties = await wallet.json("difficulty")
            assert difficulties["block"] > head.number - 1 and difficulties["difficulties"]
            assert {"uid", "pubkey", "difficulty", "blocks_in_frame"} <= set(difficulties["difficulties"][0])
            assert "alice" in (await wallet.run("difficulty")).stdout.decode()
            assert b"one identity" in (await wallet.run("licence")).stdout
            devnet.stop()
    finally:
        devnet.close()
