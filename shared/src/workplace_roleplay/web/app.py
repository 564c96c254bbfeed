"""``create_app``: the one app factory every service uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from starlette.types import Scope

from workplace_roleplay import __version__
from workplace_roleplay.adapters.trace_export import flush_tracing, install_tracing
from workplace_roleplay.bootstrap import Resources, open_resources
from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.settings import ServiceSettings
from workplace_roleplay.web.admission import Admission, AdmissionGate
from workplace_roleplay.web.api_docs import docs_router
from workplace_roleplay.web.compression import ReadCompressionMiddleware
from workplace_roleplay.web.errors import install_error_handlers
from workplace_roleplay.web.grammar import strict_path_params
from workplace_roleplay.web.health import health_router
from workplace_roleplay.web.logs import configure_logging
from workplace_roleplay.web.metrics import metrics_endpoint
from workplace_roleplay.web.middleware import RequestContextMiddleware
from workplace_roleplay.web.pagekit import favicon_router
from workplace_roleplay.web.security import SecurityHeadersMiddleware
from workplace_roleplay.web.tts import tts_router

# A service's own startup: builds its domain objects from the shared resources, cleans up on exit.
ServiceStartup = Callable[[FastAPI, Resources], AbstractAsyncContextManager[None]]
ResourceOpener = Callable[[ServiceSettings], AbstractAsyncContextManager[Resources]]


def _untraced(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return path == "/metrics" or path.endswith(("/health", "/ready"))


def create_app(
    settings: ServiceSettings,
    *,
    service: str,
    routers: Sequence[APIRouter] = (),
    startup: ServiceStartup | None = None,
    template_dir: Path | None = None,
    resources: ResourceOpener = open_resources,
) -> FastAPI:
    """Build a service: middleware, error map, health, metrics, docs under its prefix, its routers.

    Clients are created in the lifespan (never here), so importing or building the app does no I/O.
    """
    entry = load_catalog().get(service)
    name = settings.SERVICE_NAME or entry.cloud_run_name
    version = settings.SERVICE_VERSION if settings.SERVICE_VERSION != "dev" else f"{__version__}-dev"

    app = FastAPI(
        title=f"workplace-roleplay {service}",
        version=version,
        description=entry.description,
        lifespan=_lifespan(settings, name, version, resources, startup),
        openapi_url=f"{entry.api_prefix}/openapi.json",
        docs_url=None,  # our own Swagger UI page with self-served assets (web/api_docs.py)
        redoc_url=None,
        # Every path parameter is an ASCII id (web/grammar.py): a 422 with details, never a store error.
        dependencies=[Depends(strict_path_params)],
        # Probes and scrapes make no trace (FastAPI's native telemetry is a no-op anyway until tracing is on).
        telemetry={"exclude": _untraced},
    )
    app.state.service = service
    app.state.settings = settings
    app.state.template_dirs = (str(template_dir),) if template_dir else ()
    app.state.admission = Admission(
        service=name, limit=settings.ADMISSION_MAX_IN_FLIGHT, retry_after_s=settings.ADMISSION_RETRY_AFTER_S
    )
    install_error_handlers(app)
    docs_policies = _include_shared_routes(app, name=name, version=version, api_prefix=entry.api_prefix)
    for router in routers:
        app.include_router(router)
    # Pages, fragments, JSON reads and scripts leave compressed from the app itself, so make run, the
    # nginx stack and the load balancer all serve the same bytes; streams bypass it (web/compression.py).
    app.add_middleware(ReadCompressionMiddleware, minimum_size=512, compresslevel=6)
    # A process at capacity refuses model calls here, before routing, auth and the body (ADR 0032).
    app.add_middleware(AdmissionGate, admission=app.state.admission)
    app.add_middleware(RequestContextMiddleware, service=name, max_body_bytes=settings.MAX_REQUEST_BYTES)
    # Outermost, so even the 413 of the body limit carries the security headers.
    app.add_middleware(SecurityHeadersMiddleware, path_policies=docs_policies)
    return app


def _lifespan(
    settings: ServiceSettings, name: str, version: str, resources: ResourceOpener, startup: ServiceStartup | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Logging, tracing (when enabled), the shared resources, then the service's own startup; closed in reverse."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(
            service=name,
            project=settings.GOOGLE_CLOUD_PROJECT,
            level=settings.LOG_LEVEL,
            as_json=settings.LOG_JSON,
        )
        # Before the resources: the store wrapper and the Redis instrumentation must see the clients built.
        traced = install_tracing(settings, service=name, version=version)
        try:
            async with resources(settings) as res:
                app.state.resources = res
                if startup is None:
                    yield
                else:
                    async with startup(app, res):
                        yield
        finally:
            if traced:
                flush_tracing()

    return lifespan


def _include_shared_routes(app: FastAPI, *, name: str, version: str, api_prefix: str) -> dict[str, str]:
    """Health, TTS, API docs, metrics and the favicon, the same in every service; the docs' CSP policies."""
    app.include_router(health_router(service=name, version=version, prefix=api_prefix))
    app.include_router(tts_router(api_prefix))
    docs, docs_policies = docs_router(
        docs_url=f"{api_prefix}/docs", openapi_url=f"{api_prefix}/openapi.json", title=app.title
    )
    app.include_router(docs)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.include_router(favicon_router())
    return docs_policies
