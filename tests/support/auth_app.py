"""The identity service's app over a real store, plus probe routes that use the shared dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse

from functions.migrate_session.deps import MigrateSessionContext
from functions.migrate_session.routes import router as auth_router
from tests.support.fakes import FakeCache
from workplace_roleplay.adapters.memory_ratelimit import MemoryRateLimiter
from workplace_roleplay.bootstrap import Resources, Security
from workplace_roleplay.ports import Clock, DocumentStore, RateLimiter, SystemClock
from workplace_roleplay.settings import MigrateSessionSettings, ServiceSettings
from workplace_roleplay.web.app import create_app
from workplace_roleplay.web.auth import CurrentUser, PageUser, SocketUser
from workplace_roleplay.web.ratelimit import rate_limit
from workplace_roleplay.web.service_context import provide_context
from workplace_roleplay.web.templating import render

PROBE_TEMPLATES = Path(__file__).resolve().parents[1] / "security" / "templates"


def probe_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/v2/auth/probe/write")
    async def write(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id, "auth": user.auth}

    @router.websocket("/api/v2/auth/probe/socket")
    async def socket(websocket: WebSocket, user: SocketUser) -> None:
        await websocket.accept()
        await websocket.send_json({"user_id": user.user_id, "auth": user.auth})
        await websocket.close()

    @router.get("/api/v2/auth/probe/boom")
    async def boom() -> None:
        raise RuntimeError("an unexpected bug")

    @router.get("/api/v2/auth/probe/who")
    async def who(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id, "auth": user.auth}

    @router.get("/api/v2/auth/probe/model", dependencies=[rate_limit("model")])
    async def model(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id}

    @router.get("/probe/page", response_class=HTMLResponse)
    async def page(request: Request, user: PageUser, said: str = "") -> HTMLResponse:
        return HTMLResponse(render(request, "probe.html", {"said": said}, dirs=[str(PROBE_TEMPLATES)]))

    return router


def auth_settings(**overrides: Any) -> MigrateSessionSettings:
    values: dict[str, Any] = {"ENV": "test", "LOG_JSON": False, **overrides}
    return MigrateSessionSettings(**values)


def auth_app(
    settings: ServiceSettings,
    store: DocumentStore,
    *,
    limiter: RateLimiter | None = None,
    clock: Clock | None = None,
    customize: Callable[[Security], Security] | None = None,
) -> FastAPI:
    """The migrate_session app (identity routes and probes) on ``store``."""

    @asynccontextmanager
    async def opener(s: ServiceSettings) -> AsyncIterator[Resources]:
        used_clock = clock or SystemClock()
        res = Resources(
            settings=s,
            store=store,
            cache=FakeCache(),
            clock=used_clock,
            rate_limiter=limiter or MemoryRateLimiter(used_clock),
        )
        if customize is not None:
            res.security = customize(res.security)
        yield res

    @asynccontextmanager
    async def startup(app: FastAPI, res: Resources) -> AsyncIterator[None]:
        provide_context(app, MigrateSessionContext(None))  # like the service without LEGACY_SESSION_SOURCE
        yield

    return create_app(
        settings,
        service="migrate_session",
        routers=[auth_router, probe_router()],
        startup=startup,
        resources=opener,
    )


@asynccontextmanager
async def serving(app: FastAPI, *, base_url: str = "https://wr.test") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, lifespan entered (https, so Secure cookies come back)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
