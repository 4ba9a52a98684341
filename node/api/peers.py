"""`GET /peers`: the node's peers as its operator sees them (`juned peers` reads this while the node
runs, since the store and the network belong to the running process)."""

import dataclasses
from typing import Any

from fastapi import APIRouter, Request

from node.api.chain import context
from node.api.context import ApiContext

router = APIRouter(tags=["node"])


@router.get("/peers", summary="Connected and banned peers: address, claimed head, latency, score, ban")
async def peers(request: Request) -> dict[str, Any]:
    """Connected peers first, then banned ones. `head` is the head a peer claimed lately (a claim,
    not a fact); `latency_ms` the moving average of its answer times; `score` its misbehaviour
    score (banned at 100); `banned_until` the Unix time its ban ends."""
    return {"peers": peer_rows(context(request))}


def peer_rows(api: ApiContext) -> list[dict[str, Any]]:
    """The peers as `GET /peers` lists them (and the web interface's operator page)."""
    return [dataclasses.asdict(row) for row in api.peer_table()]
