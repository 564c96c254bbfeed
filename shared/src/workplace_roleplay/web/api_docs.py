"""Swagger UI under each service's API prefix, its assets served by the service itself.

The assets are Swagger UI 5 (it reads OpenAPI 3.1) as shipped in the pinned ``fastapi-offline``
package; nothing is loaded from a CDN, so ``{prefix}/docs`` works offline and under a strict CSP:
scripts and styles from our own origin only, plus the page's one inline script by its SHA-256 hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

ASSETS_PACKAGE = "fastapi_offline"
# Served name -> (file in the package's static folder, media type).
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
    "favicon.png": ("favicon.png", "image/png"),
}
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@cache
def asset_bytes(name: str) -> bytes:
    file_name = ASSETS[name][0]
    return (resources.files(ASSETS_PACKAGE) / "static" / file_name).read_bytes()


def docs_html(*, title: str, openapi_url: str, assets_url: str, parameters: dict[str, Any] | None) -> str:
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - Swagger UI",
        swagger_js_url=f"{assets_url}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets_url}/swagger-ui.css",
        swagger_favicon_url=f"{assets_url}/favicon.png",
        swagger_ui_parameters=parameters,
    )
    return bytes(page.body).decode()


def docs_policy(html: str) -> str:
    """Own origin only; the page's inline script by hash (no ``'unsafe-inline'``)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in _SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def docs_router(
    *, docs_url: str, openapi_url: str, title: str, parameters: dict[str, Any] | None = None
) -> tuple[APIRouter, dict[str, str]]:
    """The docs page and its assets, and the CSP of the page (for the security headers middleware)."""
    assets_url = f"{docs_url}/assets"
    html = docs_html(title=title, openapi_url=openapi_url, assets_url=assets_url, parameters=parameters)
    router = APIRouter(include_in_schema=False)

    @router.get(docs_url)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html)

    for name, (_, media_type) in ASSETS.items():
        router.add_api_route(f"{assets_url}/{name}", _asset_endpoint(name, media_type), methods=["GET"])
    return router, {docs_url: docs_policy(html)}


def _asset_endpoint(name: str, media_type: str) -> Any:
    async def asset() -> Response:
        # Pinned package version: the bytes never change within a release.
        return Response(asset_bytes(name), media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

    return asset
