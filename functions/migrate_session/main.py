"""Wiring of the identity and migration service (Cloud Run: ``uvicorn --factory ...main:create``)."""

from fastapi import FastAPI

from functions.migrate_session.routes import router
from workplace_roleplay.settings import MigrateSessionSettings, load_settings
from workplace_roleplay.web.app import create_app


def create() -> FastAPI:
    """Build the migrate_session app from the environment's settings."""
    return create_app(load_settings(MigrateSessionSettings), service="migrate_session", routers=[router])
