"""Cloud Run functions entry point: ``functions-framework --source function.py --target migrate_session``.

The same FastAPI app as ``main.create``; its lifespan is entered once, on the first request.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from http.cookiejar import Cookie, CookieJar
from typing import Any

import functions_framework.aio
import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from functions.migrate_session.main import create


class _NoCookies(CookieJar):
    """The forwarding client is shared by every caller: it must never keep one caller's cookies."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Cookie) -> None:
        return None


_state: dict[str, object] = {}
_lock = asyncio.Lock()


async def _client() -> httpx.AsyncClient:
    async with _lock:
        client = _state.get("client")
        if isinstance(client, httpx.AsyncClient):
            return client
        app: FastAPI = create()
        stack = AsyncExitStack()
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://function", cookies=_NoCookies()
        )
        _state.update(client=client, stack=stack)
        return client


@functions_framework.aio.http  # type: ignore[untyped-decorator,attr-defined,unused-ignore]
async def migrate_session(request: Request) -> Response:
    """Forward the request to the service app and return its answer."""
    client = await _client()
    upstream = await client.request(
        request.method,
        request.url.path,
        params=str(request.query_params),
        headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"],
        content=await request.body(),
    )
    # ``upstream.content`` is decoded (the app compresses, ADR 0025): its length and encoding no longer apply.
    dropped = {"content-length", "transfer-encoding", "content-encoding"}
    headers = [(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in dropped]
    response = Response(upstream.content, status_code=upstream.status_code)
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    response.headers["content-length"] = str(len(upstream.content))
    return response
