"""Writes: submit any signed pending document; read the pending pool.

A document is sent as its canonical CBOR bytes, either as the body (`Content-Type:
application/cbor`) or in JSON as `{"document": "<base64>"}`. The answer says accepted or known, or
why not: malformed (400), a rule broken (422, with the rule code and the reason in plain words),
the pool full or the node not ready (503, retry later). Bodies are capped; the API never takes a
secret key: documents are signed by the wallet.
"""

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Request

from node.api.chain import context
from node.api.convert import key_text
from node.api.errors import ApiError
from node.mempool import Admission, NotReady, issuers_of
from protocol.crypto import hash_hex
from protocol.documents.pending import MAX_PENDING_SIZE, decode_pending
from protocol.errors import ProtocolError, RuleViolation

router = APIRouter(tags=["documents"])
#: Largest request body: a document's cap, base64 and JSON around it.
MAX_BODY = MAX_PENDING_SIZE * 4 // 3 + 1024


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `MAX_BODY`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, f"the body has {declared} bytes, at most {MAX_BODY} are accepted")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ApiError(413, f"the body exceeds {MAX_BODY} bytes")
    return body


def document_bytes(request: Request, body: bytes) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
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
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ApiError(400, f'expected JSON {{"document": "<base64>"}}: {exc}') from exc


@router.post(
    "/documents", summary="Submit a signed identity, certification, membership, revocation or transaction"
)
async def submit(request: Request) -> dict[str, Any]:
    api = context(request)
    raw = document_bytes(request, await read_body(request))
    chain = api.store.chain()
    try:
        document = decode_pending(raw, currency=None if chain is None else chain.currency)
    except ProtocolError as exc:
        raise ApiError(400, f"not a valid document: {exc}") from exc
    try:
        result = await api.submit(document)
    except RuleViolation as violation:
        raise ApiError(422, violation.reason, rule=violation.code, result="rejected") from violation
    except NotReady as exc:
        raise ApiError(503, str(exc)) from exc
    if result.admission is Admission.FULL:
        raise ApiError(503, f"the node's pool is full: {result.reason}; try again later")
    return {
        "result": result.admission.value,
        "hash": hash_hex(document.hash),
        "kind": type(document).__name__.lower(),
    }


@router.get("/pending", summary="Documents waiting for a block")
async def pending(request: Request) -> list[dict[str, Any]]:
    api = context(request)
    return [
        {
            "kind": type(document).__name__.lower(),
            "hash": hash_hex(document.hash),
            "issuers": [key_text(k) for k in issuers_of(document)],
        }
        for document in api.mempool.documents()
    ]
