"""Wiring of the identity and migration service (Cloud Run: ``uvicorn --factory ...main:create``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from functions.migrate_session.deps import MigrateSessionContext, build_migration
from functions.migrate_session.migration_routes import router as migration_router
from functions.migrate_session.routes import router
from workplace_roleplay.bootstrap import Resources, open_resources
from workplace_roleplay.settings import MigrateSessionSettings, load_settings
from workplace_roleplay.web.app import ResourceOpener, create_app
from workplace_roleplay.web.service_context import provide_context


def create(settings: MigrateSessionSettings | None = None, *, resources: ResourceOpener = open_resources) -> FastAPI:
    """Build the migrate_session app from the environment's settings."""
    settings = settings or load_settings(MigrateSessionSettings)

    @asynccontextmanager
    async def startup(app: FastAPI, res: Resources) -> AsyncIterator[None]:
        migration = build_migration(settings, res)
        provide_context(app, MigrateSessionContext(migration))
        try:
            yield
        finally:
            if migration is not None:
                await migration.queue.close()

    return create_app(
        settings,
        service="migrate_session",
        routers=[router, migration_router],
        startup=startup,
        resources=resources,
    )
