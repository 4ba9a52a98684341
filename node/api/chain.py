"""Reads about the chain: the node and its head, blocks, the currency's parameters and money."""

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from node.api.context import ApiContext
from node.api.convert import block_json, cents_text, key_text
from node.api.errors import ApiError, not_found
from protocol.crypto import hash_hex

router = APIRouter(tags=["chain"])
MAX_BLOCKS_PER_PAGE = 100


def context(request: Request) -> ApiContext:
    api: ApiContext = request.app.state.api
    return api


@router.get("/node", summary="The node: currency, head, peers, pending documents")
async def node_summary(request: Request) -> dict[str, Any]:
    api = context(request)
    pointer, head = api.store.head_pointer(), api.store.head()
    chain = api.store.chain()
    return {
        "version": api.version,
        "currency": None if chain is None else chain.currency,
        "genesis": None if api.chain.genesis_hash is None else hash_hex(api.chain.genesis_hash),
        "head": None
        if pointer is None or head is None
        else {
            "number": pointer[0],
            "hash": hash_hex(pointer[1]),
            "state_digest": hash_hex(pointer[2]),
            "time": head.time,
            "median_time": head.median_time,
            "issuer": key_text(head.issuer),
        },
        "peers": api.peers(),
        "pending": len(api.mempool),
        "p2p_address": api.address(),
    }


def _block(api: ApiContext, number: int) -> Any:
    block = api.store.block(number)
    if block is None:
        raise not_found(f"block {number}")
    return block


@router.get("/blocks/{number}", summary="A block of the chain, decoded")
async def get_block(request: Request, number: Annotated[int, Path(ge=0)]) -> dict[str, Any]:
    return block_json(_block(context(request), number))


@router.get(
    "/blocks/{number}/raw",
    summary="A block's canonical CBOR bytes (what its hash and signature cover)",
    response_class=Response,
)
async def get_raw_block(request: Request, number: Annotated[int, Path(ge=0)]) -> Response:
    raw = context(request).store.block_bytes(number)
    if raw is None:
        raise not_found(f"block {number}")
    return Response(raw, media_type="application/cbor")


@router.get("/blocks", summary="Consecutive blocks, decoded (at most 100)")
async def list_blocks(
    request: Request,
    start: Annotated[int, Query(alias="from", ge=0)] = 0,
    count: Annotated[int, Query(ge=1, le=MAX_BLOCKS_PER_PAGE)] = 20,
) -> list[dict[str, Any]]:
    api = context(request)
    blocks = []
    for number in range(start, start + count):
        block = api.store.block(number)
        if block is None:
            break
        blocks.append(block_json(block))
    return blocks


@router.get("/currency", summary="The currency's parameters and its money: UD, M, N, M/N, next dates")
async def currency(request: Request) -> dict[str, Any]:
    api = context(request)
    chain, head = api.store.chain(), api.store.head()
    if chain is None or head is None:
        raise ApiError(503, "this node has no chain yet")
    params = chain.parameters
    members = head.members_count
    unit = 10**head.unit_base
    ud_cents = head.dividend * unit
    per_member = head.mass // members if members else 0
    return {
        "currency": chain.currency,
        "parameters": dataclasses.asdict(params),
        "money": {
            "dividend": head.dividend,
            "unit_base": head.unit_base,
            "dividend_cents": ud_cents,
            "dividend_text": cents_text(ud_cents),
            "monetary_mass": head.mass,
            "monetary_mass_text": cents_text(head.mass),
            "members": members,
            "mass_per_member": per_member,
            "mass_per_member_text": cents_text(per_member),
            "mass_per_member_in_ud": round(per_member / ud_cents, 4) if ud_cents else None,
            "next_dividend_time": head.ud_time,
            "next_reevaluation_time": head.ud_reeval_time,
            "median_time": head.median_time,
        },
    }
