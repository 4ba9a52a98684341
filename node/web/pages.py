"""The web interface's routes: HTML pages over the API's own figures (the views' plain functions
over `ApiContext`), rendered by Jinja with autoescape on, in the reader's language.

Every parameter is read as text and checked here (length, range), so that a bad one is a 400 HTML
page with its reason rather than FastAPI's JSON 422; an unknown block, member or key is a 404
page. Lists are paged; nothing walks the chain per request (the charts' series are cached by head,
`series.py`). See docs/web.md.
"""

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from node.api.chain import MAX_NUMBER, context
from node.api.context import ApiContext
from node.api.convert import block_json, key_text, parse_key
from node.api.errors import ApiError
from node.api.history import names_of
from node.api.money import currency_figures
from node.api.peers import peer_rows
from node.api.sources import MAX_SCAN, account_balance, history_of
from node.api.submit import pending_rows
from node.api.wot import MAX_SEARCH, identity_of, requirements_of, search_identities_of
from node.web import i18n
from node.web.charts import ChartText, Neighbour, line_chart, neighbourhood
from node.web.series import SeriesCache
from protocol.crypto import PublicKey
from protocol.payment_uri import PaymentUriError, format_payment_uri, parse_payment_uri
from protocol.wot.distance import sentry_threshold

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).parent / "templates"
STYLE = Path(__file__).parent / "static" / "web.css"
#: Blocks on a page of the chain; pending documents or peers on an operator page.
BLOCKS_PER_PAGE = 25
ROWS_PER_PAGE = 50
#: Longest text taken for a uid or key in a path, a search, a `next` path.
MAX_NAME = 200
MAX_SEARCH_TEXT = 100
MAX_NEXT = 500
HISTORY_LIMIT, MAX_HISTORY_LIMIT, HISTORY_SCAN = 50, 1000, 20_000
#: Neighbours drawn in a member's graph (all are listed in the tables).
GRAPH_NEIGHBOURS = 40
KINDS = ("identity", "certification", "membership", "revocation", "transaction")

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


class BadRequest(ApiError):
    """A parameter out of its bounds: a 400 page with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


def language_of(request: Request) -> str:
    return i18n.choose_language(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


def render(request: Request, template: str, code: int = 200, **values: Any) -> HTMLResponse:
    """The page `template` in the reader's language, with the formatting helpers of that language."""
    language = language_of(request)
    catalogue = i18n.translations(language)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = environment.get_template(template).render(
        _=catalogue.gettext,
        gettext=catalogue.gettext,
        ngettext=catalogue.ngettext,
        lang=language,
        here=quote(here[:MAX_NEXT], safe=""),
        money=lambda cents: i18n.format_money(cents, language),
        number=lambda value, decimals=0: i18n.format_number(value, language, decimals),
        date=lambda moment: i18n.format_date(moment, language),
        datetime=lambda moment: i18n.format_date(moment, language, with_time=True),
        **values,
    )
    return HTMLResponse(html, status_code=code, headers={"Content-Language": language})


async def answer(request: Request, build: Callable[[ApiContext], Awaitable[HTMLResponse]]) -> HTMLResponse:
    """`build`'s page, or the error page of its refusal (400, 404, 409, 503)."""
    try:
        return await build(context(request))
    except ApiError as refusal:
        return render(request, "error.html", refusal.status, status=refusal.status, reason=refusal.reason)


def number_param(text: str | None, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within `low..high` (a 400 page otherwise)."""
    if text is None or text == "":
        return default
    if len(text) > 20 or not text.isdigit():
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be from {low} to {high}")
    return value


def name_param(text: str, what: str) -> str:
    if not 1 <= len(text) <= MAX_NAME:
        raise BadRequest(f"{what} must have 1 to {MAX_NAME} characters")
    return text


def series_cache(request: Request) -> SeriesCache:
    """The app's one cache of the currency's daily series."""
    cache: SeriesCache | None = getattr(request.app.state, "web_series", None)
    if cache is None:
        cache = request.app.state.web_series = SeriesCache()
    return cache


@router.get("/assets/web.css")
async def style() -> FileResponse:
    return FileResponse(STYLE, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Set the `lang` cookie and go back to `next`, a path of this node only (no open redirect)."""
    if code not in i18n.LANGUAGES:
        return render(request, "error.html", 404, status=404, reason=f"no language {code[:20]!r}")
    target = next or "/"
    local = (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and len(target) <= MAX_NEXT
        and all(32 < ord(c) < 127 for c in target)
    )
    response = RedirectResponse(target if local else "/", status_code=303)
    response.set_cookie(i18n.COOKIE, code, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.get("/")
async def currency_page(request: Request) -> HTMLResponse:
    async def build(api: ApiContext) -> HTMLResponse:
        figures = currency_figures(api)
        series = await series_cache(request).series(api.store)
        language = language_of(request)
        catalogue = i18n.translations(language)
        _ = catalogue.gettext

        def date(moment: int) -> str:
            return i18n.format_date(moment, language)

        def whole(value: float) -> str:
            return i18n.format_number(value, language)

        def units(value: float) -> str:
            return i18n.format_number(value / 100, language, 0 if value >= 1000 else 2)

        def in_ud(value: float) -> str:
            return i18n.format_number(value, language, 0 if value >= 10 else 2)

        per_member = [(p.time, p.mass / p.members if p.members else 0.0) for p in series]
        per_member_ud = [
            (p.time, p.mass / p.members / p.dividend if p.members and p.dividend else 0.0) for p in series
        ]
        drawn: list[tuple[str, str, list[tuple[int, float]], Callable[[float], str]]] = [
            ("chart-n", _("Members (N)"), [(p.time, p.members) for p in series], whole),
            ("chart-ud", _("Universal Dividend"), [(p.time, p.dividend) for p in series], units),
            ("chart-mn-ud", _("M/N in UD"), per_member_ud, in_ud),
            ("chart-mn", _("M/N in units"), per_member, units),
            ("chart-blocks", _("Blocks per day"), [(p.time, p.blocks) for p in series], whole),
        ]
        charts = [
            (title, line_chart(points, ChartText(title, value, date), chart_id))
            for chart_id, title, points, value in drawn
        ]
        return render(request, "currency.html", currency=figures, charts=charts, days=len(series))

    return await answer(request, build)


def _uids(api: ApiContext, keys: list[bytes]) -> dict[bytes, str]:
    found = {}
    for key in set(keys):
        record = api.store.identity(PublicKey(key))
        if record is not None:
            found[key] = record.uid
    return found


@router.get("/chain")
async def chain_page(request: Request, start: str | None = None) -> HTMLResponse:
    """The blocks from `start` (the head if not given) down, a page at a time, from their summaries."""

    async def build(api: ApiContext) -> HTMLResponse:
        pointer = api.store.head_pointer()
        if pointer is None:
            raise ApiError(503, "this node has no chain yet")
        head = pointer[0]
        top = min(head, number_param(start, "start", head, 0, MAX_NUMBER))
        summaries = [
            s for n in range(top, max(-1, top - BLOCKS_PER_PAGE), -1) if (s := api.store.block_summary(n))
        ]
        uids = _uids(api, [bytes(s.issuer) for s in summaries])
        rows = [
            {
                "summary": s,
                "issuer": key_text(s.issuer),
                "uid": uids.get(bytes(s.issuer)),
                "dividend": s.dividend * 10**s.unit_base if s.dividend_created else None,
                "bytes": len(api.store.block_bytes(s.number) or b""),
            }
            for s in summaries
        ]
        newer = min(head, top + BLOCKS_PER_PAGE) if top < head else None
        older = top - BLOCKS_PER_PAGE if top - BLOCKS_PER_PAGE >= 0 else None
        return render(request, "chain.html", rows=rows, head=head, newer=newer, older=older)

    return await answer(request, build)


@router.get("/chain/{number}")
async def block_page(request: Request, number: str) -> HTMLResponse:
    async def build(api: ApiContext) -> HTMLResponse:
        if len(number) > 20 or not number.isdigit() or int(number) > MAX_NUMBER:
            raise BadRequest("a block number is a whole number")
        block = api.store.block(int(number))
        summary = api.store.block_summary(int(number))
        if block is None or summary is None:
            raise ApiError(404, f"block {int(number)} not found")
        shown = block_json(block)
        keys = [shown["issuer"], *shown["joiners"], *shown["actives"], *shown["leavers"], *shown["revoked"]]
        keys += shown["excluded"]
        keys += [k for c in shown["certifications"] for k in (c["issuer"], c["receiver"])]
        keys += [k for tx in shown["transactions"] for k in tx["issuers"]]
        names = names_of(api.store, keys)
        dividend = block.dividend * 10**block.unit_base if block.dividend else None
        head = api.store.head_pointer()
        last = head[0] if head is not None else block.number
        return render(
            request,
            "block.html",
            block=shown,
            size=len(api.store.block_bytes(block.number) or b""),
            rows=summary.size,
            names=names,
            dividend=dividend,
            last=last,
        )

    return await answer(request, build)


@router.get("/members")
async def members_page(request: Request, q: str | None = None) -> HTMLResponse:
    async def build(api: ApiContext) -> HTMLResponse:
        found = None
        if q:
            if len(q) > MAX_SEARCH_TEXT:
                raise BadRequest(f"a search has at most {MAX_SEARCH_TEXT} characters")
            found = await search_identities_of(api, q, MAX_SEARCH)
        head = api.store.head()
        members = None if head is None else head.members_count
        return render(request, "members.html", q=q or "", found=found, members=members)

    return await answer(request, build)


def is_sentry(api: ApiContext, key: PublicKey, member: bool, received: int, issued: int) -> bool:
    """A member that issued and received at least dSen = ⌈N^(1/stepMax)⌉ live certifications, as
    the distance rule counts sentries (protocol/wot/graph.py)."""
    chain, head = api.store.chain(), api.store.head()
    if chain is None or head is None or not member:
        return False
    d_sen = sentry_threshold(head.members_count, chain.parameters.step_max)
    return issued >= d_sen and received >= d_sen and issued + received > 0


@router.get("/members/{who}")
async def member_page(request: Request, who: str) -> HTMLResponse:
    async def build(api: ApiContext) -> HTMLResponse:
        name_param(who, "a uid or key")
        identity = identity_of(api, who)
        needs = requirements_of(api, who)
        key = parse_key(identity["pubkey"])
        received, issued = needs["certifications"]["received"], needs["certifications"]["issued"]
        sentry = is_sentry(api, key, identity["status"] == "member", len(received), len(issued))
        links: dict[str, Neighbour] = {}
        for row, certifier in [(r, True) for r in received] + [(r, False) for r in issued]:
            other = row["issuer"] if certifier else row["receiver"]
            href = f"/members/{quote('@' + row['uid'] if row['uid'] else other, safe='@:')}"
            was = links.get(other)
            links[other] = Neighbour(
                label=row["uid"] or other[:8],
                href=href,
                certifier=certifier or (was is not None and was.certifier),
                certified=(not certifier) or (was is not None and was.certified),
            )
        catalogue = i18n.translations(language_of(request))
        graph = neighbourhood(
            identity["uid"],
            sorted(links.values(), key=lambda n: (not n.certifier, not n.certified, n.label))[
                :GRAPH_NEIGHBOURS
            ],
            catalogue.gettext("Certifiers and certified"),
        )
        return render(
            request,
            "member.html",
            identity=identity,
            needs=needs,
            sentry=sentry,
            graph=graph,
            drawn=min(len(links), GRAPH_NEIGHBOURS),
            neighbours=len(links),
        )

    return await answer(request, build)


@router.get("/accounts/{key}")
async def account_page(
    request: Request, key: str, limit: str | None = None, scan: str | None = None
) -> HTMLResponse:
    async def build(api: ApiContext) -> HTMLResponse:
        name_param(key, "a public key")
        public_key = parse_key(key)
        shown_limit = number_param(limit, "limit", HISTORY_LIMIT, 1, MAX_HISTORY_LIMIT)
        shown_scan = number_param(scan, "scan", HISTORY_SCAN, 1, MAX_SCAN)
        money = currency_figures(api)["money"]
        balance = account_balance(api, public_key)
        history = await history_of(api, public_key, limit=shown_limit, scan=shown_scan)
        record = api.store.identity(public_key)
        if record is None and balance == 0 and not history["history"]:
            raise ApiError(
                404, f"no account {key_text(public_key)} on this chain: no identity, money or history"
            )
        ud = money["dividend_cents"]
        destroyed = -sum(e["amount"] for e in history["history"] if e["kind"] == "destroyed")
        more = len(history["history"]) >= shown_limit and shown_limit < MAX_HISTORY_LIMIT
        return render(
            request,
            "account.html",
            pubkey=key_text(public_key),
            uid=None if record is None else record.uid,
            balance=balance,
            balance_ud=balance / ud if ud else None,
            history=history,
            destroyed=destroyed,
            more=min(MAX_HISTORY_LIMIT, shown_limit * 2) if more else None,
            scan=shown_scan,
            wider=min(MAX_SCAN, shown_scan * 10) if history["scanned_from"] > 0 else None,
        )

    return await answer(request, build)


def page_of(rows: list[Any], page: int) -> tuple[list[Any], int]:
    """Rows of page `page` (from 1), and the number of pages."""
    pages = max(1, math.ceil(len(rows) / ROWS_PER_PAGE))
    return rows[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE], pages


@router.get("/operator/pending")
async def pending_page(request: Request, kind: str | None = None, page: str | None = None) -> HTMLResponse:
    async def build(api: ApiContext) -> HTMLResponse:
        if kind and kind not in KINDS:
            raise BadRequest(f"kind is one of {', '.join(KINDS)}")
        rows = pending_rows(api, kind or None, None)
        number = number_param(page, "page", 1, 1, 10**9)
        shown, pages = page_of(rows, number)
        return render(
            request,
            "pending.html",
            rows=shown,
            total=len(rows),
            page=number,
            pages=pages,
            kind=kind,
            kinds=KINDS,
        )

    return await answer(request, build)


@router.get("/operator/peers")
async def peers_page(request: Request, page: str | None = None) -> HTMLResponse:
    async def build(api: ApiContext) -> HTMLResponse:
        rows = peer_rows(api)
        number = number_param(page, "page", 1, 1, 10**9)
        shown, pages = page_of(rows, number)
        return render(request, "peers.html", rows=shown, total=len(rows), page=number, pages=pages)

    return await answer(request, build)


#: Longest texts taken for a payment request's amount, amount in UD and comment (the URI module
#: bounds them again: a comment has at most 255 characters).
MAX_AMOUNT_TEXT, MAX_COMMENT_TEXT = 30, 1000


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG, with its quiet zone, sized by a viewBox (no width or height:
    a fixed-size SVG shown at another size is cropped, its quiet zone lost, rather than scaled)."""
    qr: str = segno.make_qr(uri, error="m").svg_inline(border=4, dark="#000", light="#fff", omitsize=True)
    return qr


@router.get("/pay/{key}")
async def pay_page(
    request: Request, key: str, amount: str | None = None, ud: str | None = None, comment: str | None = None
) -> HTMLResponse:
    """A payment request (a donation page): the `june:` URI of `key`, with the amount, amount in
    UD, comment and the node's currency, as text and as a QR code that `june pay` reads."""

    async def build(api: ApiContext) -> HTMLResponse:
        name_param(key, "a public key")
        recipient = parse_key(key)
        chain = api.store.chain()
        if chain is None:
            raise ApiError(503, "this node has no chain yet")
        if len(amount or "") > MAX_AMOUNT_TEXT or len(ud or "") > MAX_AMOUNT_TEXT:
            raise BadRequest(f"an amount has at most {MAX_AMOUNT_TEXT} characters")
        if len(comment or "") > MAX_COMMENT_TEXT:
            raise BadRequest(f"a comment has at most {MAX_COMMENT_TEXT} characters")
        # the URI module is the one judge of a request: its parameters are read as a URI's would be
        params = [
            (name, value) for name, value in (("amount", amount), ("ud", ud), ("comment", comment)) if value
        ]
        params.append(("currency", chain.currency))
        query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
        try:
            wanted = parse_payment_uri(f"june:{key_text(recipient)}?{query}")
        except PaymentUriError as exc:
            raise BadRequest(str(exc)) from exc
        uri = format_payment_uri(wanted)
        qr = qr_svg(uri)
        record = api.store.identity(recipient)
        ud_cents = currency_figures(api)["money"]["dividend_cents"]
        return render(
            request,
            "pay.html",
            request_=wanted,
            pubkey=key_text(recipient),
            uid=None if record is None else record.uid,
            uri=uri,
            qr=Markup(qr),  # segno's own SVG: no text of the request in it but the encoded modules
            ud_cents=ud_cents,
        )

    return await answer(request, build)
