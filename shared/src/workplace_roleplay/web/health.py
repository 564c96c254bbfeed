"""``/health`` (liveness, no dependency calls) and ``/ready`` (store and cache checks)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.errors import AppError
from workplace_roleplay.ports import HealthStatus
from workplace_roleplay.web.heap import release_free_memory


class Health(BaseModel):
    status: Literal["ok"]
    service: str
    version: str


class Check(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    backend: str
    detail: str = ""


class Readiness(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    service: str
    checks: dict[str, Check]


# A safety net: each store bounds its own ping (Firestore: 3 s after its one-time client build, which the first
# check waits for off the event loop, ADR 0032; SQLite is local).
READY_TIMEOUT_S = 10.0


async def _store_check(resources: Resources) -> HealthStatus:
    backend = resources.store.backend
    try:
        await asyncio.wait_for(resources.store.ping(), READY_TIMEOUT_S)
    except (AppError, TimeoutError) as exc:
        return HealthStatus("unavailable", backend, type(exc).__name__)
    return HealthStatus("ok", backend)


def health_router(*, service: str, version: str, prefix: str) -> APIRouter:
    """Health endpoints at the root and under the service's load-balancer prefix."""
    router = APIRouter(tags=["health"])

    async def health() -> Health:
        return Health(status="ok", service=service, version=version)

    async def ready(request: Request) -> JSONResponse:
        resources: Resources = request.app.state.resources
        store, cache = await asyncio.gather(_store_check(resources), resources.cache.health())
        checks = {
            "store": Check(status=store.status, backend=store.backend, detail=store.detail),
            "cache": Check(status=cache.status, backend=cache.backend, detail=cache.detail),
        }
        # A cache outage degrades (requests still succeed); a store outage makes the service unready.
        overall: Literal["ok", "degraded", "unavailable"] = "ok"
        if store.status != "ok":
            overall = "unavailable"
        elif cache.status != "ok":
            overall = "degraded"
        body = Readiness(status=overall, service=service, checks=checks)
        if overall != "unavailable" and not getattr(request.app.state, "heap_released_after_ready", False):
            # The first good check built the store's client (the Firestore SDK's import): give back its
            # scratch memory once, as after startup (ADR 0032).
            request.app.state.heap_released_after_ready = True
            release_free_memory()
        return JSONResponse(body.model_dump(), status_code=503 if overall == "unavailable" else 200)

    for base in ("", prefix):
        router.add_api_route(
            f"{base}/health",
            health,
            methods=["GET"],
            response_model=Health,
            summary="Liveness (no dependency calls)",
        )
        router.add_api_route(
            f"{base}/ready",
            ready,
            methods=["GET"],
            response_model=Readiness,
            summary="Readiness: store and cache checks",
            responses={503: {"description": "The document store is unavailable."}},
        )
    return router
