"""Wiring of the scenario service (Cloud Run: ``uvicorn --factory functions.scenario.main:create``)."""

from pathlib import Path

from fastapi import FastAPI

from functions.scenario.routes import router
from workplace_roleplay.settings import ScenarioSettings, load_settings
from workplace_roleplay.web.app import create_app


def create() -> FastAPI:
    """Build the scenario app (it also serves the home page ``/``)."""
    return create_app(
        load_settings(ScenarioSettings),
        service="scenario",
        routers=[router],
        template_dir=Path(__file__).parent / "templates",
    )
