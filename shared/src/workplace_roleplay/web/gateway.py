"""The one-origin local gateway of ``make run``: every service in one process, routed by the catalog.

Each service keeps its own app, lifespan and paths (no prefix stripping), exactly as behind the load
balancer. Paths no service claims would go to the legacy app in the cloud; locally they get a 404.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from workplace_roleplay.catalog import Catalog, load_catalog
from workplace_roleplay.errors import NotFound
from workplace_roleplay.web.context import accept_request_id
from workplace_roleplay.web.errors import wants_html
from workplace_roleplay.web.security import SecurityHeadersMiddleware
from workplace_roleplay.web.templating import environment

log = logging.getLogger("workplace_roleplay.gateway")


def build_service_apps(catalog: Catalog) -> dict[str, FastAPI]:
    """Import each service's wiring module and build its app."""
    apps: dict[str, FastAPI] = {}
    for entry in catalog.services:
        module = importlib.import_module(entry.module)
        factory: Callable[[], FastAPI] = module.create
        apps[entry.name] = factory()
    return apps


class Gateway:
    """An ASGI app that dispatches by path prefix to the services' apps."""

    def __init__(self, catalog: Catalog, apps: dict[str, FastAPI]) -> None:
        self.catalog = catalog
        self.apps = apps

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run every service's lifespan (startup in catalog order, shutdown in reverse)."""
        async with AsyncExitStack() as stack:
            for name, app in self.apps.items():
                await stack.enter_async_context(app.router.lifespan_context(app))
                log.info("service started", extra={"gateway_service": name})
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        entry = self.catalog.route(scope.get("path", "/"))
        if entry is None:
            target: ASGIApp | None = self._own(scope.get("path", "/"))
            if target is None:
                if scope["type"] == "http":
                    await _not_found(scope, receive, send)
                return
        else:
            target = self.apps[entry.name]
        await target(scope, receive, send)

    def _own(self, path: str) -> ASGIApp | None:
        # The gateway's own probes answer through any service app (they all serve /health and /metrics).
        if path in ("/health", "/ready", "/metrics"):
            return next(iter(self.apps.values()))
        return None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        stack = AsyncExitStack()
        try:
            await stack.enter_async_context(self.running())
        except Exception as exc:
            log.exception("startup failed")
            await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        await stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})


async def _not_found_app(scope: Scope, receive: Receive, send: Send) -> None:
    """404 for a path no service claims: the Japanese error page for browsers, JSON for API clients."""
    request = Request(scope)
    request_id = accept_request_id(request.headers.get("x-request-id"))
    message = NotFound.message_ja
    if wants_html(request):
        body = (
            environment()
            .get_template("error.html")
            .render(
                csp_nonce=scope.get("state", {}).get("csp_nonce", ""),
                status=404,
                code=NotFound.code,
                message=message,
                message_en="No service serves this path locally (the legacy app is not part of make run).",
                request_id=request_id,
                fragment=False,
            )
            .encode()
        )
        content_type = b"text/html; charset=utf-8"
    else:
        error = {
            "code": NotFound.code,
            "message": message,
            "message_en": "No service serves this path locally (the legacy app is not part of make run).",
            "request_id": request_id,
        }
        body = json.dumps({"error": error}, ensure_ascii=False).encode()
        content_type = b"application/json; charset=utf-8"
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# The same security headers (and CSP nonce for the page's style) as every service's responses.
_not_found = SecurityHeadersMiddleware(_not_found_app)


def create_gateway() -> Gateway:
    """The gateway over every service in the catalog (uvicorn factory)."""
    catalog = load_catalog()
    return Gateway(catalog, build_service_apps(catalog))


def main() -> None:
    """Serve every service on one origin (``make run``)."""
    import uvicorn

    from workplace_roleplay.settings import load_settings
    from workplace_roleplay.settings.local import LocalRunSettings

    run = load_settings(LocalRunSettings)
    gateway = create_gateway()
    print(f"workplace-roleplay v2: http://{run.HOST}:{run.PORT}/  (Ctrl-C で停止 / stop)", flush=True)
    # proxy_headers off: only the settings decide whose X-Forwarded-For counts (web/ratelimit.py, ADR 0018).
    uvicorn.run(gateway, host=run.HOST, port=run.PORT, log_level="warning", lifespan="on", proxy_headers=False)


if __name__ == "__main__":
    main()
