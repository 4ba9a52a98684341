"""`/docs` and `/redoc` work on a node without internet access: their pages name no other host, and
every script, style and icon they load is served by the node itself."""

import re
from urllib.parse import urlsplit

import httpx
import pytest

#: What each kind of asset must be served as.
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


def referenced(html: str) -> list[str]:
    """The URLs a page loads: `src`, `href`, ReDoc's `spec-url` and Swagger UI's `url`."""
    found = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", html)
    found += re.findall(r"""\burl:\s*["']([^"']+)["']""", html)
    return found


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_nothing_from_elsewhere(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://", html), "the page names another host"
    assert "fonts.googleapis" not in html and "jsdelivr" not in html
    urls = referenced(html)
    assert any(u.endswith(".js") for u in urls) and "/openapi.json" in urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = "." + url.rsplit(".", 1)[-1]
        media_type = asset.headers["content-type"].split(";")[0]
        assert media_type in CONTENT_TYPES[suffix], (url, media_type)
        assert asset.content


async def test_swagger_ui_asks_no_outside_validator(client: httpx.AsyncClient) -> None:
    # Swagger UI's default shows a badge fetched from validator.swagger.io
    assert '"validatorUrl": null' in (await client.get("/docs")).text


async def test_the_vendored_assets_are_whole_with_their_licences(client: httpx.AsyncClient) -> None:
    bundle = await client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content and len(bundle.content) > 1_000_000
    redoc = await client.get("/static/redoc/redoc.standalone.js")
    assert b"spec-url" in redoc.content and len(redoc.content) > 1_000_000
    for licence in ("/static/swagger-ui/LICENSE", "/static/swagger-ui/NOTICE", "/static/redoc/LICENSE"):
        assert (await client.get(licence)).status_code == 200, licence


async def test_a_missing_asset_is_a_plain_404(client: httpx.AsyncClient) -> None:
    for path in ("/static/nothing.js", "/static/swagger-ui/../../app.py", "/static/%2e%2e/app.py"):
        response = await client.get(path)
        assert response.status_code == 404 and response.json()["error"], path
