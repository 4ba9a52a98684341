"""A funded dev chain dated a few days before the real clock, `juned run` processes on it (forging
with a sealed key file whose passphrase goes on stdin), and payments built as the wallet builds them.

The chain: `BenchChain` founders (a ring of certifications) whose genesis is dated `DAYS_AGO` days
ago, grown until the first UD is distributed; its head's time and median time are then in the past,
so a node holding a member's key forges its next block at once on the real clock (the dev profile
allows a block time up to 30 days past the median time).
"""

import os
import signal
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import trio

from bench._chain import BenchChain
from protocol.crypto import PublicKey
from protocol.documents import BlockRef
from protocol.keyfile import seal
from protocol.keys import Keypair, pubkey_to_base58
from protocol.params import dev_parameters
from tests.node.hostile import Victim, victim
from tests.node.test_p2p_sync import datadir
from wallet.commands.money import spendable
from wallet.payments import build_payment

DAYS_AGO = 3
#: avgGenTime: the dev profile's 10 s makes a test wait 10–25 s for its payments to be written.
GEN_TIME = 2
PASSPHRASE = "forger passphrase"
#: What `POST /documents` answers for a document it keeps in its pool.
KEPT = ("accepted", "waiting", "known")


def funded_chain(members: int = 5, gen_time: int = GEN_TIME) -> BenchChain:
    """`members` founders dated `DAYS_AGO` days ago, each holding one UD; blocks every `gen_time`
    seconds (avgGenTime)."""
    start = int(time.time()) - DAYS_AGO * 86400
    chain = BenchChain(members, replace(dev_parameters(start), avg_gen_time=gen_time), start=start)
    chain.advance_to_dividend()
    return chain


def funded_datadir(path: Path, chain: BenchChain) -> Path:
    return datadir(path, chain.blocks)


def key_file(path: Path, keypair: Keypair, passphrase: str = PASSPHRASE) -> Path:
    """A key file sealing `keypair` (light scrypt: a test key)."""
    path.write_text(seal(keypair, passphrase, salt=os.urandom(16), nonce=os.urandom(24), n=2**10))
    return path


@asynccontextmanager
async def juned(
    datadir: Path, key: Path | None = None, *extra: str, passphrase: str = PASSPHRASE
) -> AsyncIterator[Victim]:
    """`juned run` over `datadir`, forging with `key` if given (the passphrase written on its
    stdin); killed on the way out unless already stopped."""
    options = ["--key-file", str(key)] if key is not None else []
    async with victim(datadir, *options, *extra, stdin=passphrase + "\n") as node:
        yield node


async def stop(node: Victim, how: signal.Signals) -> int:
    """Stop the node with `how` (SIGTERM: a clean stop; SIGKILL: a crash); its exit code."""
    node.process.send_signal(how)
    with trio.fail_after(30):
        return await node.process.wait()


async def get(api: str, path: str) -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(api + path)
    assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
    return answer.json()


async def pay(api: str, payer: Keypair, payee: PublicKey, cents: int) -> list[tuple[str, str]]:
    """What `june send` does: build the payment from the node's `/sources` of the payer (which
    include the change of its pending payments) and submit it; (hash, result) of each transaction."""
    node = await get(api, "/node")
    sources = await get(api, f"/sources/{pubkey_to_base58(payer.public_key)}")
    head = node["head"]
    transactions = build_payment(
        payer,
        node["currency"],
        BlockRef(head["number"], bytes.fromhex(head["hash"])),
        spendable(sources["sources"]),
        [(payee, cents)],
    )
    answers = []
    async with httpx.AsyncClient(timeout=10) as client:
        for tx in transactions:
            answer = await client.post(
                api + "/documents", content=tx.to_bytes(), headers={"Content-Type": "application/cbor"}
            )
            body = answer.json()
            answers.append((tx.hash.hex().upper(), str(body.get("result", body.get("error")))))
    return answers


async def states(api: str, hashes: Sequence[str]) -> dict[str, str]:
    """Each document's state on the node: `GET /documents/{hash}` (pending, waiting, written,
    dropped or unknown) where the node serves it; else `pending` from `/pending`, `written` from a
    scan of `/blocks`, and `unknown` for the rest."""
    found: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for tx_hash in hashes:
            answer = await client.get(f"{api}/documents/{tx_hash}")
            if answer.status_code == 404:
                return await _states_without_endpoint(client, api, hashes)
            assert answer.status_code == 200, answer.text
            found[tx_hash] = answer.json()["state"]
    return found


async def _states_without_endpoint(
    client: httpx.AsyncClient, api: str, hashes: Sequence[str]
) -> dict[str, str]:
    pending = (await client.get(f"{api}/pending", params={"kind": "transaction"})).json()
    found = dict.fromkeys(hashes, "unknown")
    found.update({item["hash"]: "pending" for item in pending if item["hash"] in found})
    head = (await client.get(f"{api}/node")).json()["head"]["number"]
    for first in range(0, head + 1, 100):
        blocks = (await client.get(f"{api}/blocks", params={"from": first, "count": 100})).json()
        for block in blocks if isinstance(blocks, list) else blocks["blocks"]:
            for tx in block["transactions"]:
                if tx["hash"] in found:
                    found[tx["hash"]] = "written"
    return found
