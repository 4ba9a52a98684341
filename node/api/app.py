"""The ASGI application: FastAPI (a maintained framework that derives the OpenAPI schema from the
endpoints' types, served at /openapi.json, browsable at /docs), run under hypercorn's trio worker
so that it shares the node's event loop and store without threads. See docs/api.md."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from node.api import chain, money, sources, submit, wot
from node.api.context import ApiContext
from node.api.errors import ApiError

log = logging.getLogger(__name__)


async def refusal(_request: Request, exc: Exception) -> JSONResponse:
    """Every refusal as `{"error": reason, …}` with its 4xx status, whoever raised it: our views
    (`ApiError`), FastAPI's parameter checks (422) or Starlette's routing (404, 405)."""
    if isinstance(exc, ApiError):
        return JSONResponse({"error": exc.reason, **exc.extra}, status_code=exc.status)
    if isinstance(exc, RequestValidationError):
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": f"bad request: {reasons}"}, status_code=422)
    if isinstance(exc, StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
    return await failure(_request, exc)


async def failure(_request: Request, exc: Exception) -> JSONResponse:
    """A bug or a broken store is the node's fault: logged, answered 500 in JSON (clients fail
    over to another node on a 5xx), with no detail that could leak the node's internals."""
    log.error("client API request failed", exc_info=exc)
    return JSONResponse({"error": "the node failed to answer; see its log"}, status_code=500)


def build_app(api: ApiContext) -> FastAPI:
    """The API over `api`: the node's store, chain and mempool, or a bare store in tests."""
    app = FastAPI(
        title="June node API",
        version=api.version,
        description="Reads of the chain, the web of trust and money; submission of signed documents. "
        "Never asks for nor accepts a secret key: documents are signed by the wallet.",
        # a path with a stray slash (`/blocks/%2F` decodes to `/blocks//`) is a plain 404 with a
        # reason, not a redirect without one
        redirect_slashes=False,
    )
    app.state.api = api
    for router in (chain.router, money.router, wot.router, sources.router, submit.router):
        app.include_router(router)
    for kind in (ApiError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, refusal)
    app.add_exception_handler(Exception, failure)
    return app
