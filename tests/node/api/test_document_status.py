"""`GET /documents/{hash}`: what became of a document sent (pending, waiting, written, dropped, unknown)."""

from collections.abc import Sequence

import httpx

from node.api.context import ApiContext
from protocol.conditions import sig_condition
from protocol.documents import Input, Output, TransactionSource
from protocol.documents.pending import PendingDocument
from protocol.forge import build_block, prove, required_difficulty
from tests.protocol.chain_builder import Chain

CBOR = {"content-type": "application/cbor"}


def write_block(api: ApiContext, chain: Chain, documents: Sequence[PendingDocument]) -> int:
    """Forge the next block on the node's store from `documents` (the shared `chain` is left as it
    is), add it, and re-check the pool as the node does on a new head."""
    head = api.store.head()
    assert head is not None
    block = build_block(api.store, documents, chain.key("bob"), head.median_time + chain.params.avg_gen_time)
    nonce = prove(block, required_difficulty(api.store, block))
    assert nonce is not None
    api.chain.add_block(block.signed(chain.keys["bob"], nonce))
    api.mempool.revalidate()
    return block.number


async def status(client: httpx.AsyncClient, document: PendingDocument) -> dict[str, object]:
    response = await client.get(f"/documents/{document.hash.hex()}")
    assert response.status_code == 200
    answer: dict[str, object] = response.json()
    assert answer["hash"] == document.hash.hex().upper()
    return answer


async def test_pending_then_written_in_its_block(
    client: httpx.AsyncClient, api: ApiContext, chain: Chain
) -> None:
    payment = chain.pay("carol", {"dave": 100})
    sent = await client.post("/documents", content=payment.to_bytes(), headers=CBOR)
    assert sent.json()["result"] == "accepted"
    pending = await status(client, payment)
    assert pending["state"] == "pending" and pending["reason"] is None
    assert pending["expires"] == chain.blocks[-1].median_time + chain.params.tx_window
    number = write_block(api, chain, api.mempool.documents())
    written = await status(client, payment)
    assert written["state"] == "written" and written["block"] == number


async def test_waiting_with_its_reason(client: httpx.AsyncClient, chain: Chain) -> None:
    payment = chain.pay("carol", {"dave": 100})
    child = chain.transaction(
        ["dave"],
        [Input(100, 0, TransactionSource(payment.hash, 0))],
        [Output(100, 0, sig_condition(chain.key("alice")))],
    )
    sent = (await client.post("/documents", content=child.to_bytes(), headers=CBOR)).json()
    assert sent["result"] == "waiting" and sent["reason"].startswith("BR_G87") and "until" in sent
    answer = await status(client, child)
    assert answer["state"] == "waiting" and str(answer["reason"]).startswith("BR_G87")
    await client.post("/documents", content=payment.to_bytes(), headers=CBOR)
    assert (await status(client, child))["state"] == "waiting"  # checked again at the next block


async def test_dropped_with_its_reason(client: httpx.AsyncClient, api: ApiContext, chain: Chain) -> None:
    payment = chain.pay("carol", {"dave": 100})
    await client.post("/documents", content=payment.to_bytes(), headers=CBOR)
    rival = chain.pay("carol", {"bob": 5})  # the same sources, written by another node's block
    write_block(api, chain, [rival])
    answer = await status(client, payment)
    assert answer["state"] == "dropped" and str(answer["reason"]).startswith("BR_G87")


async def test_unknown_and_malformed_hashes(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/documents/" + "AB" * 32)
    assert unknown.status_code == 200 and unknown.json()["state"] == "unknown"
    assert (await client.get("/documents/not-a-hash")).status_code == 400
