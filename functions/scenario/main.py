"""Wiring of the scenario service (Cloud Run: ``uvicorn --factory functions.scenario.main:create``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from functions.scenario.deps import ScenarioContext
from functions.scenario.pages import pages
from functions.scenario.play import build_play
from functions.scenario.play_pages import play_pages
from functions.scenario.play_routes import play_router
from functions.scenario.routes import router
from workplace_roleplay.bootstrap import Resources, open_resources
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.scenario.catalog import load_catalog_cached
from workplace_roleplay.domain.scenario.consent import ConsentService
from workplace_roleplay.domain.scenario.growth import Growth
from workplace_roleplay.domain.scenario.listing import ScenarioCatalogService
from workplace_roleplay.domain.scenario.progress import ScenarioProgress
from workplace_roleplay.settings import ScenarioSettings, load_settings
from workplace_roleplay.web.app import ResourceOpener, create_app
from workplace_roleplay.web.service_context import provide_context

log = logging.getLogger("workplace_roleplay.scenario")


async def build_scenarios(res: Resources) -> ScenarioCatalogService:
    """The catalog (validated once, through scenario_cache) and the learner-facing services over it."""
    catalog, from_cache = await load_catalog_cached(res.cache)
    log.info(
        "scenario catalog ready",
        extra={"scenarios": len(catalog), "catalog_version": catalog.digest, "from_cache": from_cache},
    )
    return ScenarioCatalogService(
        catalog, ConsentService(res.store, res.clock), ScenarioProgress(res.store, res.clock), from_cache=from_cache
    )


def create(settings: ScenarioSettings | None = None, *, resources: ResourceOpener = open_resources) -> FastAPI:
    """Build the scenario app (it also serves the home page ``/``)."""
    settings = settings or load_settings(ScenarioSettings)

    @asynccontextmanager
    async def startup(app: FastAPI, res: Resources) -> AsyncIterator[None]:
        scenarios = await build_scenarios(res)
        background = BackgroundWork()
        res.conversations, play = build_play(settings, res, background, scenarios)
        provide_context(app, ScenarioContext(scenarios, play=play, growth=Growth(res.store, scenarios.catalog)))
        try:
            yield
        finally:
            await background.drain(within_s=10.0)

    return create_app(
        settings,
        service="scenario",
        routers=[play_router, router, play_pages, pages],
        startup=startup,
        template_dir=Path(__file__).parent / "templates",
        resources=resources,
    )
