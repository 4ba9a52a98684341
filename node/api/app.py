"""The ASGI application: FastAPI (a maintained framework that derives the OpenAPI schema from the
endpoints' types, served at /openapi.json, browsable at /docs), run under hypercorn's trio worker
so that it shares the node's event loop and store without threads. Its flood limits are
`limits.FloodGuard`; its documentation pages load their scripts from the package (`static/`), not
from a CDN, so that they work offline. Every answer carries `June-Api: 1` (`ApiHeader`). See
docs/api.md."""

import logging
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.api import chain, money, peers, sources, submit, wot
from node.api.context import ApiContext
from node.api.errors import ApiError
from node.api.limits import FloodGuard, Limits
from node.api.metrics import NodeMetrics
from node.api.metrics import router as metrics_router
from node.errors import DiskFull, StoreDamaged
from node.web.pages import router as web_router

log = logging.getLogger(__name__)

#: The header every answer of the API carries, and its value: the version of the API. A wallet
#: takes an answer without it (a web site's or a proxy's 404, a wrong port) as "not a June node".
API_HEADER = "june-api"
API_VERSION = "1"


class ApiHeader:
    """Adds `API_HEADER: API_VERSION` to every HTTP answer of `app`: views, refusals, flood-limit
    refusals, 404s of unknown routes, 500s (sent by Starlette's outermost error middleware, which
    is why this wraps the whole stack, not one middleware in it), the documentation pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (API_HEADER.encode("latin-1"), API_VERSION.encode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != self.header[0]]
                message = {**message, "headers": [*headers, self.header]}
            await send(message)

        await self.app(scope, receive, send_marked)


class JuneApi(FastAPI):
    """FastAPI with `ApiHeader` around its whole middleware stack, error middleware included."""

    def build_middleware_stack(self) -> ASGIApp:
        return ApiHeader(super().build_middleware_stack())


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


async def failure(request: Request, exc: Exception) -> JSONResponse:
    """A bug or a broken store is the node's fault: logged, answered 500 in JSON (clients fail
    over to another node on a 5xx), with no detail that could leak the node's internals. A full
    disk is answered 503 with its reason (the store logged it once); a damaged store 500, its
    plain message logged once (not a traceback per request)."""
    if isinstance(exc, DiskFull):
        return JSONResponse(
            {"error": "this node's disk is full: it accepts no writes until space returns"}, status_code=503
        )
    if isinstance(exc, StoreDamaged):
        reported: set[str] = request.app.state.damage_reported
        if exc.what not in reported:
            reported.add(exc.what)
            log.error("%s", exc)
        return JSONResponse({"error": "the node's store is damaged; see its log"}, status_code=500)
    log.error("client API request failed", exc_info=exc)
    return JSONResponse({"error": "the node failed to answer; see its log"}, status_code=500)


#: The documentation pages' scripts, styles and icon (vendored, see static/README.md), served at /static.
STATIC = Path(__file__).parent / "static"
FAVICON = "/static/swagger-ui/favicon-32x32.png"


def add_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/redoc` (ReDoc) with their assets from `STATIC`: no CDN, no web
    fonts, no Swagger validator badge (an image fetched from swagger.io)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=None,
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url="/static/redoc/redoc.standalone.js",
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )


def build_app(
    api: ApiContext, *, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
) -> FastAPI:
    """The API over `api`: the node's store, chain and mempool, or a bare store in tests. `limits`
    are its flood limits (`Limits()`'s defaults if not given); `clock` times the rate limit."""
    app = JuneApi(
        title="June node API",
        version=api.version,
        description="Reads of the chain, the web of trust and money; submission of signed documents. "
        "Never asks for nor accepts a secret key: documents are signed by the wallet.",
        # a path with a stray slash (`/blocks/%2F` decodes to `/blocks//`) is a plain 404 with a
        # reason, not a redirect without one
        redirect_slashes=False,
        # served from the package by `add_docs`, not from a CDN
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = api
    app.state.damage_reported = set()  # StoreDamaged messages already logged
    app.state.metrics = api.metrics or NodeMetrics()
    app.state.metrics.watch(api)
    for router in (
        chain.router,
        money.router,
        wot.router,
        sources.router,
        submit.router,
        peers.router,
        metrics_router,
        web_router,  # the read-only web interface's HTML pages (docs/web.md)
    ):
        app.include_router(router)
    add_docs(app)
    for kind in (ApiError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, refusal)
    for store_failure in (DiskFull, StoreDamaged):  # answered here, not re-raised to the server
        app.add_exception_handler(store_failure, failure)
    app.add_exception_handler(Exception, failure)
    app.add_middleware(FloodGuard, limits=limits, clock=clock)
    return app
