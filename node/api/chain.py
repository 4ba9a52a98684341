"""Reads about the chain: the node and its head, blocks (decoded or as their canonical bytes), and
the proof-of-work difficulty each recent issuer faces for the next block."""

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from node.api.context import ApiContext
from node.api.convert import block_json, key_text
from node.api.errors import ApiError, not_found
from node.api.pace import take_turn
from protocol.crypto import PublicKey, hash_hex
from protocol.documents import Block
from protocol.encoding import encode
from protocol.rules.production import compute_header, compute_personal_difficulty, frame_summaries

router = APIRouter(tags=["chain"])
MAX_BLOCKS_PER_PAGE = 100
#: Block numbers are stored as 8 bytes: a larger number is a bad request, not a lookup.
MAX_NUMBER = 2**63 - 1
#: A page of raw blocks stops after this many bytes.
MAX_RAW_PAGE_BYTES = 4 * 2**20
Number = Annotated[int, Path(ge=0, le=MAX_NUMBER, description="A block number")]


def context(request: Request) -> ApiContext:
    """The node's store, chain and mempool, set on the app by `build_app`."""
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


def _block(api: ApiContext, number: int) -> Block:
    block = api.store.block(number)
    if block is None:
        raise not_found(f"block {number}")
    return block


@router.get(
    "/blocks/raw",
    summary="Consecutive blocks' canonical CBOR bytes, as one CBOR array (at most 100, about 4 MB)",
    response_class=Response,
)
async def list_raw_blocks(
    request: Request,
    start: Annotated[int, Query(alias="from", ge=0, le=MAX_NUMBER)] = 0,
    count: Annotated[int, Query(ge=1, le=MAX_BLOCKS_PER_PAGE)] = MAX_BLOCKS_PER_PAGE,
) -> Response:
    """What an export or a mirror copies: the bytes as stored (no decoding), a page per request,
    so a whole chain crosses the API's rate limit in pages rather than one request per block. A
    page stops early after `MAX_RAW_PAGE_BYTES` (always at least one block)."""
    store = context(request).store
    page: list[bytes] = []
    size = 0
    for number in range(start, start + count):
        await take_turn()
        raw = store.block_bytes(number)
        if raw is None or (page and size + len(raw) > MAX_RAW_PAGE_BYTES):
            break
        page.append(raw)
        size += len(raw)
    return Response(encode(page), media_type="application/cbor")


@router.get("/blocks/{number}", summary="A block of the chain, decoded")
async def get_block(request: Request, number: Number) -> dict[str, Any]:
    return block_json(_block(context(request), number))


@router.get(
    "/blocks/{number}/raw",
    summary="A block's canonical CBOR bytes (what its hash and signature cover)",
    response_class=Response,
)
async def get_raw_block(request: Request, number: Number) -> Response:
    raw = context(request).store.block_bytes(number)
    if raw is None:
        raise not_found(f"block {number}")
    return Response(raw, media_type="application/cbor")


@router.get(
    "/blocks", summary="Consecutive blocks, decoded (at most 100)", response_model=list[dict[str, Any]]
)
async def list_blocks(
    request: Request,
    start: Annotated[int, Query(alias="from", ge=0, le=MAX_NUMBER)] = 0,
    count: Annotated[int, Query(ge=1, le=MAX_BLOCKS_PER_PAGE)] = 20,
) -> JSONResponse:
    """Blocks are read and decoded one at a time, each in its own turn of the event loop (see pace.py);
    the page is answered as the JSON they already are, without FastAPI's conversion of the
    result (which would be a single step as long as all the decoding together)."""
    api = context(request)
    blocks = []
    for number in range(start, start + count):
        await take_turn()
        block = api.store.block(number)
        if block is None:
            break
        blocks.append(block_json(block))
    return JSONResponse(blocks)


@router.get(
    "/difficulties",
    summary="The personalised proof-of-work difficulty each issuer of the current frame would face "
    "for the next block, easiest first",
)
async def difficulties(request: Request) -> dict[str, Any]:
    """What a forger, or a member wondering whether to run one, needs to know: powMin raised by
    rotation and by a handicap for frequent issuers (BR_G18), by the rules' own functions."""
    api = context(request)
    pointer, chain = api.store.head_pointer(), api.store.chain()
    if pointer is None or chain is None:
        raise ApiError(503, "this node has no chain yet")
    number, params = pointer[0] + 1, chain.parameters
    frame = frame_summaries(api.store, number)
    pow_min = compute_header(api.store, params, number, frame).pow_min
    rows = []
    for issuer, blocks in Counter(summary.issuer for summary in frame).items():
        record = api.store.identity(PublicKey(issuer))
        difficulty = compute_personal_difficulty(api.store, params, issuer, number, pow_min, frame)
        rows.append(
            {
                "pubkey": key_text(issuer),
                "uid": None if record is None else record.uid,
                "difficulty": difficulty,
                "blocks_in_frame": blocks,
            }
        )
    rows.sort(key=lambda r: (r["difficulty"], r["uid"] is None, r["uid"] or "", r["pubkey"]))
    return {"block": number, "pow_min": pow_min, "difficulties": rows}
