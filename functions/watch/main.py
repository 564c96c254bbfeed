"""Wiring of the watch service (Cloud Run: ``uvicorn --factory functions.watch.main:create``)."""

from fastapi import FastAPI

from functions.watch.routes import router
from workplace_roleplay.settings import WatchSettings
from workplace_roleplay.web.app import create_app


def create() -> FastAPI:
    """Build the watch app from the environment's settings."""
    return create_app(WatchSettings(), service="watch", routers=[router])
