"""Writes: submit any signed pending document; read the pending pool.

A document is sent as its canonical CBOR bytes, either as the body (`Content-Type:
application/cbor`) or in JSON as `{"document": "<base64>"}`. The answer says accepted, waiting (a
rule that time lifts, such as a period not over: kept and checked again at each block) or known, or
why not: malformed (400), a rule broken for ever (422, with the rule code and the reason in plain
words), the pool full or the node not ready (503, retry later). Bodies are capped; the API never
takes a secret key: documents are signed by the wallet. `GET /documents/{hash}` says what became of
a document sent: pending, waiting, written (in which block), dropped (why), or unknown.
"""

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from node.api.chain import context
from node.api.context import ApiContext
from node.api.convert import key_text, parse_key
from node.api.errors import ApiError, not_found
from node.mempool import Admission, NotReady, issuers_of
from protocol.crypto import PublicKey, hash_hex, parse_hash_hex
from protocol.documents.pending import MAX_PENDING_SIZE, PendingDocument, decode_pending
from protocol.errors import ProtocolError, RuleViolation

router = APIRouter(tags=["documents"])
#: Largest request body: a document's cap, base64 and JSON around it.
MAX_BODY = MAX_PENDING_SIZE * 4 // 3 + 1024


Kind = Literal["identity", "certification", "membership", "revocation", "transaction"]


def kind_of(document: PendingDocument) -> str:
    return type(document).__name__.lower()


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `MAX_BODY` (before reading it all
    when its declared length already does)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, f"the body has {declared} bytes, at most {MAX_BODY} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ApiError(413, f"the body exceeds {MAX_BODY} bytes")
    return bytes(body)


def document_bytes(request: Request, body: bytes) -> bytes:
    """The document's CBOR bytes from a CBOR body or a JSON one. Base64 only, not hex as well: a
    hex string is also valid Base64, so accepting both would make some documents ambiguous."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/cbor":
        return body
    if kind != "application/json":
        raise ApiError(415, 'send the document as application/cbor, or JSON {"document": "<base64>"}')
    try:
        payload = json.loads(body)
        text = payload["document"]
        if not isinstance(text, str):
            raise TypeError("document is not a string")
        return base64.b64decode(text, validate=True)
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error, RecursionError) as exc:
        raise ApiError(400, f'expected JSON {{"document": "<base64>"}}: {exc}') from exc


#: The request body as OpenAPI should show it: the view reads the raw body itself (to cap it).
SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/cbor": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["document"],
                    "properties": {
                        "document": {"type": "string", "format": "byte", "description": "Base64 of the CBOR"}
                    },
                }
            },
        },
    }
}


@router.post(
    "/documents",
    summary="Submit a signed identity, certification, membership, revocation or transaction",
    openapi_extra=SUBMIT_BODY,
)
async def submit(request: Request) -> dict[str, Any]:
    api = context(request)
    raw = document_bytes(request, await read_body(request))
    chain = api.store.chain()
    try:
        document = decode_pending(raw, currency=None if chain is None else chain.currency)
    except ProtocolError as exc:
        raise ApiError(400, f"not a valid document: {exc}", result="rejected") from exc
    try:
        result = await api.submit(document)
    except RuleViolation as violation:
        raise ApiError(422, violation.reason, rule=violation.code, result="rejected") from violation
    except NotReady as exc:
        raise ApiError(503, str(exc)) from exc
    if result.admission is Admission.FULL:
        raise ApiError(503, f"the node's pool is full: {result.reason}; try again later")
    answer: dict[str, Any] = {
        "result": result.admission.value,
        "hash": hash_hex(document.hash),
        "kind": kind_of(document),
    }
    if result.admission is Admission.WAITING:
        answer.update(reason=result.reason, until=result.until)
    return answer


@router.get("/documents/{document_hash}", summary="What became of a document sent to this node")
async def document_status(
    request: Request, document_hash: Annotated[str, Path(description="The hash, in hexadecimal")]
) -> dict[str, Any]:
    """`state`: `pending` (valid, waiting for a block), `waiting` (not valid yet: `reason`, and `until`
    the median time from which it may pass, when known), `written` (in block `block`), `dropped`
    (`reason`), or `unknown` (never seen here, or forgotten: the node remembers the last 10,000
    outcomes). `expires`: for a document in the pool, the median time after which its reference
    block is out of its window and it can never be written."""
    api = context(request)
    try:
        wanted = parse_hash_hex(document_hash)
    except ValueError as exc:
        raise ApiError(400, f"not a document hash: {exc}") from exc
    status = api.mempool.status(wanted)
    return {
        "hash": hash_hex(wanted),
        "state": status.state.value,
        "reason": status.reason or None,
        "block": status.block,
        "until": status.until,
        "expires": status.expires,
    }


@router.get("/pending", summary="Documents waiting for a block, of one kind or issuer if asked")
async def pending(
    request: Request,
    kind: Annotated[Kind | None, Query(description="Only documents of this kind")] = None,
    issuer: Annotated[str | None, Query(description="Only documents this key issued")] = None,
) -> list[dict[str, Any]]:
    return pending_rows(context(request), kind, None if issuer is None else parse_key(issuer))


def pending_rows(api: ApiContext, kind: str | None, wanted: PublicKey | None) -> list[dict[str, Any]]:
    """The pool's documents as `GET /pending` lists them (and the web interface's operator page)."""
    return [
        {
            "kind": kind_of(document),
            "hash": hash_hex(document.hash),
            "issuers": [key_text(k) for k in issuers_of(document)],
        }
        for document in api.mempool.documents()
        if (kind is None or kind_of(document) == kind) and (wanted is None or wanted in issuers_of(document))
    ]


@router.get(
    "/pending/{document_hash}",
    summary="A pending document's canonical CBOR bytes, as it was submitted and signed",
    response_class=Response,
)
async def pending_document(
    request: Request, document_hash: Annotated[str, Path(description="The hash, in hexadecimal")]
) -> Response:
    api = context(request)
    try:
        wanted = parse_hash_hex(document_hash)
    except ValueError as exc:
        raise ApiError(400, f"not a document hash: {exc}") from exc
    for document in api.mempool.documents():
        if document.hash == wanted:
            return Response(document.to_bytes(), media_type="application/cbor")
    raise not_found(f"pending document {hash_hex(wanted)}")
