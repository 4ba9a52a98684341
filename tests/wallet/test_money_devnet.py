"""Members' money through real `june` processes against a devnet (issue 15): nothing destroyed
without consent, nothing paid to a key nobody holds, a name that means two accounts refused,
failover past a web page, and the new ways to pay (everything, another change key, a file, a dry
run, in UD) and to read (several accounts, without the passphrase, with names)."""

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import trio

from node.clock import Clock
from node.devnet import Devnet
from protocol.keys import Keypair, pubkey_display, pubkey_to_base58
from tests.wallet.test_wallet_devnet import DAY, JUNE, Wallet, advance


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = b"<html><body>" + b"<p>Not Found</p>" * 200 + b"</body></html>"
        self.send_response(404)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def website() -> Iterator[str]:
    """A web server on 127.0.0.1 that answers every path with an HTML 404, as a wrong port would."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def key_of(name: str) -> str:
    """The public key (base58) of scrypt credentials `name`/`name`."""
    return pubkey_to_base58(Keypair.from_scrypt(name, name).public_key)


async def pending(url: str) -> list[object]:
    """The node's pending transactions (asked from a thread: the node runs on this event loop)."""
    answer = await trio.to_thread.run_sync(
        lambda: httpx.get(f"{url}/pending?kind=transaction", timeout=10).json()
    )
    assert isinstance(answer, list)
    return answer


async def test_members_money_is_safe_through_the_wallet(tmp_path: Path) -> None:
    devnet = Devnet(tmp_path / "devnet", nodes=1, members=5, clock=Clock(), turn_spacing=0.3)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(devnet.run)
            url = devnet.nodes[0].api_url
            wallet = Wallet([url])
            await advance(devnet, DAY)
            await advance(devnet, 10)
            ud = (await wallet.json("money"))["dividend_cents"]
            alice = await wallet.json("balance", "alice")
            assert alice["balance"] == ud == 1000 and alice["uid"] == "alice"

            # Dust: 9.28 of 10.00 would leave 0.72, which the 1-unit rule destroys.
            refused = await wallet.run("send", "bob", "9.28", secret="alice", ok=False)
            said = refused.stderr.decode()
            assert refused.returncode != 0 and "would leave 0.72 on your account" in said
            assert "june send --all" in said and "send at most 9.00" in said and "--allow-dust" in said
            # a new account paid 0.50 would be destroyed too
            zoe = key_of("zoe")
            refused = await wallet.run("send", zoe, "0.50", secret="alice", ok=False)
            assert (
                "would hold only 0.50" in refused.stderr.decode()
                and "pay at least 1.00" in refused.stderr.decode()
            )
            assert await pending(url) == []

            # Strict recipients: 2 characters short, a wrong checksum, not Base58.
            for typed, why in (
                (zoe[:-2], "decodes to"),
                (f"{zoe}:ZZZ", "checksum mismatch"),
                ("0" + zoe[1:], "not Base58"),
            ):
                bad = await wallet.run("send", typed, "2", secret="alice", ok=False)
                assert bad.returncode != 0 and why in bad.stderr.decode(), (typed, bad.stderr)
            assert await pending(url) == []

            # A name that is the uid of one account and the public key of another is refused.
            trap = key_of("victim")
            published = await wallet.json("wot", "publish", trap, secret="mallory")
            assert published["result"] == "accepted"
            ambiguous = await wallet.run("send", trap, "2", "--dry-run", secret="alice", ok=False)
            assert "is both the uid of" in ambiguous.stderr.decode()
            as_uid = await wallet.json("send", f"@{trap}", "2", "--dry-run", secret="alice")
            as_key = await wallet.json(
                "send",
                pubkey_display(Keypair.from_scrypt("victim", "victim").public_key),
                "2",
                "--dry-run",
                secret="alice",
            )
            assert key_of("mallory") in as_uid["documents"][0]["outputs"][0]
            assert trap in as_key["documents"][0]["outputs"][0]

            # Dry run with a UD amount, a recipients file (June's and Silkaj's forms), another change key.
            dry = await wallet.json("send", "bob", "0.5", "--ud", "--dry-run", secret="alice")
            assert (
                dry["dry_run"] is True
                and f"{ud // 2}:0:SIG({key_of('bob')})" in dry["documents"][0]["outputs"]
            )
            june_file = tmp_path / "pay.txt"
            june_file.write_text("# rent\nbob 2\ncarol 3.50\n")
            silkaj_file = tmp_path / "silkaj.txt"
            silkaj_file.write_text(f"RELATIVE\n0.1 {key_of('dave')}\n")
            from_file = await wallet.json(
                "send", "--file", str(june_file), "--change", key_of("eve"), secret="alice"
            )
            assert from_file["results"] == ["accepted"] and from_file["amount"] == 550
            silkaj = await wallet.json("send", "--file", str(silkaj_file), "--dry-run", secret="bob")
            assert f"{ud // 10}:0:SIG({key_of('dave')})" in silkaj["documents"][0]["outputs"]

            # A payment request (june pay URI): paid with its comment; another currency's is refused.
            currency = (await trio.to_thread.run_sync(lambda: httpx.get(f"{url}/node", timeout=10).json()))[
                "currency"
            ]
            hacklab = pubkey_display(Keypair.from_scrypt("hacklab", "hacklab").public_key)
            request = f"june:{hacklab}?amount=3&comment=Don%20au%20hacklab&currency={quote(currency)}"
            donated = await wallet.json("pay", request, secret="bob")
            assert donated["results"] == ["accepted"] and donated["amount"] == 300
            assert donated["request"]["comment"] == "Don au hacklab"
            elsewhere = request.replace(f"currency={quote(currency)}", "currency=another")
            refused = await wallet.run("pay", elsewhere, secret="bob", ok=False)
            assert refused.returncode != 0 and f"but the node serves {currency}" in refused.stderr.decode()

            # Everything: carol empties her account into zoe's, nothing destroyed.
            everything = await wallet.json("send", "--all", zoe, secret="carol")
            assert everything["results"] == ["accepted"] and everything["destroyed"] == 0
            # Consent: dave pays 0.50 to a new account, and it is destroyed as he agreed.
            yann = key_of("yann")
            consented = await wallet.json("send", yann, "0.50", "--allow-dust", secret="dave")
            assert consented["results"] == ["accepted"] and consented["destroyed"] == 50
            for _ in range(20):
                await advance(devnet, 10)
                if await pending(url) == []:
                    break
            assert await pending(url) == []
            assert (await wallet.json("balance", "carol"))["balance"] == 0
            assert (await wallet.json("balance", zoe))["balance"] == 1000 + 350
            assert (await wallet.json("balance", "eve"))["balance"] == 1000 + 1000 - 550
            written = (await wallet.json("history", hacklab))["history"]
            assert [(e["kind"], e["amount"], e["comment"]) for e in written] == [
                ("received", 300, "Don au hacklab")
            ]
            shown_yann = await wallet.json("history", yann)
            kinds = [(e["kind"], e["amount"]) for e in shown_yann["history"]]
            assert ("received", 50) in kinds and ("destroyed", -50) in kinds
            table = (await wallet.run("history", yann)).stdout.decode()
            assert "destroyed by the 1-unit rule" in table and "dave (" in table

            # Several accounts and their total; reading one's own without the passphrase.
            several = await wallet.json("balance", "alice", "bob", zoe)
            assert several["total"] == sum(a["balance"] for a in several["accounts"])
            keyfile = tmp_path / "key.json"
            await trio.run_process(
                [JUNE, "keys", "generate", "--file", str(keyfile)],
                stdin=b"a long passphrase\n",
                capture_stdout=True,
            )
            watch = await trio.run_process(
                [JUNE, "--node", url, "--key-file", str(keyfile), "--json", "balance"],
                stdin=b"",
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
            assert watch.returncode == 0, watch.stderr
            history = (await wallet.run("history", "alice")).stdout.decode()
            assert "bob (" in history and "carol (" in history

            # Failover past a website's HTML 404 to the healthy node.
            with website() as page:
                failover = await Wallet([page, url]).run("money", "--json")
            notes = failover.stderr.decode()
            assert failover.returncode == 0 and "is not a June node (HTTP 404, text/html)" in notes
            assert "<p>" not in notes
            devnet.stop()
    finally:
        devnet.close()
