"""The ASGI application: FastAPI (a maintained framework that derives the OpenAPI schema from the
endpoints' types, served at /openapi.json, browsable at /docs), run under hypercorn's trio worker
so that it shares the node's event loop and store without threads."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from node.api import chain, money, submit, wot
from node.api.context import ApiContext
from node.api.errors import ApiError, api_error_handler


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return JSONResponse({"error": f"bad request: {reasons}"}, status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)


def build_app(api: ApiContext) -> FastAPI:
    app = FastAPI(
        title="June node API",
        version=api.version,
        description="Reads of the chain, the web of trust and money; submission of signed documents.",
    )
    app.state.api = api
    for router in (chain.router, wot.router, money.router, submit.router):
        app.include_router(router)
    handlers: dict[Any, Any] = {
        ApiError: api_error_handler,
        RequestValidationError: _validation_error,
        StarletteHTTPException: _http_error,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
    return app
