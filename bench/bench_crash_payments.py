"""Acknowledged payments against crashes of a forging node (issue 13).

One `juned run` process forges on a funded dev chain dated a few days before the real clock (members
holding a UD each; avgGenTime 2 s, `--gen-time` to change it) while a client pays through its API as
`june send` does: the payment is built from `/sources/{payer}`, which count the change of the
payer's pending payments, so most payments spend the change of a pending one (chained). The node is
killed with SIGKILL at a random moment (seeded), in the middle of submissions, `--kills` times, and
restarted each time. Every submission answered `accepted`, `waiting` or `known` is acknowledged.
After the last restart the node forges until none of them is pending or `--drain` seconds pass.

Printed: acknowledged, written (found in a block by a scan of `/blocks`), still pending or waiting,
dropped with a reason (`GET /documents/{hash}`, when the node serves it), and **lost**: acknowledged
but neither written, nor pending, nor dropped with a reason. The target is 0 lost.

Default: 30 kills, 8 members, about 3–4 minutes. `--seed`, `--kills`, `--members`, `--gen-time`.
"""

import argparse
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repository on sys.path)
import httpx
from _chain import BenchChain

from node.chain import ChainManager
from node.datadir import STORE_NAME, NodeConfig, write_config
from node.store import LevelStore
from protocol.crypto import PublicKey
from protocol.documents import BlockRef, TransactionSource
from protocol.keyfile import seal
from protocol.keys import pubkey_to_base58
from protocol.params import dev_parameters
from wallet.commands.money import spendable
from wallet.errors import WalletError
from wallet.payments import build_payment

JUNED = str(Path(sys.executable).with_name("juned"))
API = re.compile(rb"client API on (\S+)")
PASSPHRASE = "bench forger passphrase"
KEPT = ("accepted", "waiting", "known")


def funded_datadir(root: Path, members: int, gen_time: int) -> tuple[BenchChain, Path, Path]:
    """A data directory of `members` founders dated 3 days ago, each with a UD; a key file of
    member 0 (the forger)."""
    start = int(time.time()) - 3 * 86400
    chain = BenchChain(members, replace(dev_parameters(start), avg_gen_time=gen_time), start=start)
    chain.advance_to_dividend()
    datadir = root / "node"
    store = LevelStore.open(datadir / STORE_NAME)
    manager = ChainManager(store, genesis_hash=chain.blocks[0].hash)
    for block in chain.blocks:
        manager.add_block(block)
    store.close()
    genesis = chain.blocks[0]
    write_config(datadir, NodeConfig(currency=genesis.currency, genesis=genesis.hash))
    key = root / "forger.json"
    key.write_text(seal(chain.keys[0], PASSPHRASE, salt=os.urandom(16), nonce=os.urandom(24), n=2**10))
    return chain, datadir, key


class Juned:
    """A forging `juned run` process, its passphrase on stdin, its API on a free port."""

    def __init__(self, datadir: Path, key: Path, log: Path) -> None:
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [JUNED, "run", "--datadir", str(datadir), "--key-file", str(key), "--api", "127.0.0.1:0"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=out,
                start_new_session=True,  # no terminal: the passphrase is read from stdin
            )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(PASSPHRASE.encode() + b"\n")
        self.process.stdin.close()
        self.api = ""
        deadline = time.monotonic() + 60
        while not self.api and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            if found := API.search(line):
                self.api = found.group(1).decode()
        if not self.api:
            self.process.kill()
            raise RuntimeError(f"juned did not start; see {log}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # drain its stdout

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        with contextlib.suppress(ProcessLookupError):  # proof-search workers it may have left
            os.killpg(self.process.pid, signal.SIGKILL)  # (its own process group)


class Client:
    """Pays as `june send` does, and records what the node acknowledged."""

    def __init__(self, chain: BenchChain, rng: random.Random) -> None:
        self.chain = chain
        self.rng = rng
        self.acknowledged: dict[str, float] = {}  # hash: when answered, monotonic
        self.chained = 0
        self.answers: Counter[str] = Counter()

    def pay_once(self, http: httpx.Client, api: str) -> None:
        members = len(self.chain.keys)
        payer = self.chain.keys[self.rng.randrange(1, members)]
        payee: PublicKey = self.chain.keys[self.rng.randrange(0, members)].public_key
        node = get(http, api + "/node").raise_for_status().json()
        sources = get(http, f"{api}/sources/{pubkey_to_base58(payer.public_key)}").raise_for_status().json()
        head = node["head"]
        try:
            transactions = build_payment(
                payer,
                node["currency"],
                BlockRef(head["number"], bytes.fromhex(head["hash"])),
                spendable(sources["sources"]),
                [(payee, self.rng.randint(1, 20))],
            )
        except WalletError:
            self.answers["not built"] += 1
            return
        for tx in transactions:
            answer = http.post(
                api + "/documents", content=tx.to_bytes(), headers={"Content-Type": "application/cbor"}
            )
            body = answer.json()
            result = str(body.get("result") or answer.status_code)
            self.answers[result] += 1
            if answer.status_code == 200 and result in KEPT:
                tx_hash = tx.hash.hex().upper()
                self.acknowledged[tx_hash] = time.monotonic()
                if any(
                    isinstance(i.source, TransactionSource)
                    and i.source.tx_hash.hex().upper() in self.acknowledged
                    for i in tx.inputs
                ):
                    self.chained += 1
            else:
                return  # the rest of a chained split would spend what was refused

    def pay_until_dead(self, node: Juned) -> None:
        """Pay until the node stops answering (it was killed)."""
        with httpx.Client(timeout=5) as http:
            while node.process.poll() is None:
                try:
                    self.pay_once(http, node.api)
                except (httpx.HTTPError, ValueError):
                    if node.process.poll() is None:
                        time.sleep(0.05)


def get(http: httpx.Client, url: str, **params: Any) -> httpx.Response:
    """A GET answered, waiting out the API's flood limits (429, 503 with Retry-After)."""
    while True:
        answer = http.get(url, params=params)
        if answer.status_code not in (429, 503):
            return answer
        time.sleep(float(answer.headers.get("Retry-After", "1")))


def written_hashes(http: httpx.Client, api: str) -> set[str]:
    """Hashes of every transaction in the node's chain (a scan of `/blocks`)."""
    head = get(http, api + "/node").json()["head"]["number"]
    found: set[str] = set()
    for first in range(0, head + 1, 100):
        answer = get(http, api + "/blocks", **{"from": first, "count": 100})
        answer.raise_for_status()
        body = answer.json()
        for block in body if isinstance(body, list) else body["blocks"]:
            found.update(tx["hash"] for tx in block["transactions"])
    return found


def pending_hashes(http: httpx.Client, api: str) -> set[str]:
    return {item["hash"] for item in get(http, api + "/pending", kind="transaction").json()}


def outcomes(http: httpx.Client, api: str, hashes: list[str]) -> dict[str, dict[str, Any]]:
    """`GET /documents/{hash}` of each; or, when the node does not serve it, {"state": "pending"}
    for those in `/pending` and nothing for the rest."""
    if get(http, f"{api}/documents/{'0' * 64}").status_code == 404:
        return {h: {"state": "pending"} for h in pending_hashes(http, api)}
    return {h: get(http, f"{api}/documents/{h}").json() for h in hashes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--gen-time", type=int, default=2, help="avgGenTime in seconds")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--drain", type=float, default=90, help="seconds to let the last run forge")
    parser.add_argument("--keep", type=Path, help="keep the data directory and log here")
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="june-bench-crash-") as scratch:
        root = arguments.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        log = root / "juned.log"
        chain, datadir, key = funded_datadir(root, arguments.members, arguments.gen_time)
        client = Client(chain, rng)
        for kill in range(arguments.kills):
            node = Juned(datadir, key, log)
            timer = threading.Timer(rng.uniform(1.0, 6.0), node.kill)
            timer.start()
            client.pay_until_dead(node)
            timer.join()
            print(
                f"kill {kill + 1}/{arguments.kills}: {len(client.acknowledged)} acknowledged so far",
                file=sys.stderr,
            )
        node = Juned(datadir, key, log)
        hashes = list(client.acknowledged)
        try:
            with httpx.Client(timeout=30) as http:
                deadline = time.monotonic() + arguments.drain
                while pending_hashes(http, node.api) & set(hashes) and time.monotonic() < deadline:
                    time.sleep(0.5)
                states = outcomes(http, node.api, hashes)
                written = written_hashes(http, node.api)
                head = get(http, node.api + "/node").json()["head"]["number"]
        finally:
            node.kill()
        elapsed = time.monotonic() - began
        have_status = bool(states) or not hashes
        acked = set(hashes)
        pending = {h for h in acked - written if states.get(h, {}).get("state") in ("pending", "waiting")}
        dropped = {
            h: states[h].get("reason") or "?"
            for h in acked - written - pending
            if states.get(h, {}).get("state") == "dropped" and states[h].get("reason")
        }
        lost = sorted(acked - written - pending - set(dropped))
        answers = ", ".join(f"{k} {v}" for k, v in client.answers.most_common())
        print(f"kills (SIGKILL at random moments, seed {arguments.seed}): {arguments.kills}")
        print(f"submissions answered: {answers}")
        print(f"acknowledged payments: {len(acked)} ({client.chained} spending an acknowledged one's change)")
        print(f"written in blocks: {len(acked & written)} (head: block {head})")
        print(f"still pending or waiting: {len(pending)}")
        if have_status:
            reasons = Counter(reason.split(":")[0] for reason in dropped.values())
            print(f"dropped with a reason: {len(dropped)} {dict(reasons) if reasons else ''}".rstrip())
        else:
            print("dropped with a reason: n/a (the node serves no GET /documents/{hash})")
        print(f"LOST (acknowledged, not written, not pending, not dropped with a reason): {len(lost)}")
        for tx_hash in lost[:10]:
            print(f"  {tx_hash} {states.get(tx_hash, {}).get('state', 'not pending')}")
        print(f"duration: {elapsed:.0f} s")


if __name__ == "__main__":
    main()
