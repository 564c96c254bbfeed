"""Wiring of the watch service (Cloud Run: ``uvicorn --factory functions.watch.main:create``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from functions.watch.live import LiveOptions, LiveRuns
from functions.watch.live_routes import SocketTransportProbe, live_router
from functions.watch.pages import pages
from functions.watch.routes import router
from workplace_roleplay.bootstrap import Resources, build_pubsub, open_resources
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.modes.watch import WatchMode
from workplace_roleplay.domain.modes.watch.quiz import QuizBook
from workplace_roleplay.domain.modes.watch.run import RunOptions, WatchRuns
from workplace_roleplay.domain.modes.watch.takes import TakesBook
from workplace_roleplay.settings import WatchSettings, load_settings
from workplace_roleplay.web.app import ResourceOpener, create_app
from workplace_roleplay.web.engine import build_engine


def build_watch(settings: WatchSettings, res: Resources, background: BackgroundWork) -> WatchRuns:
    """The conversation engine in watch mode, and the runs over it."""
    engine = build_engine(settings, res, background, WatchMode())
    res.conversations = engine
    quizzes = QuizBook(res.store, res.model, res.clock, res.security.sealer)
    takes = TakesBook(res.store, res.model, res.clock, res.security.sealer)
    return WatchRuns(
        engine,
        quizzes,
        RunOptions(settings.WATCH_LINE_BUDGET, settings.WATCH_QUIZ_EVERY, settings.WATCH_MAX_PLAYING),
        takes=takes,
    )


def create(settings: WatchSettings | None = None, *, resources: ResourceOpener = open_resources) -> FastAPI:
    """Build the watch app from the environment's settings (tests pass their own resource opener)."""
    settings = settings or load_settings(WatchSettings)

    @asynccontextmanager
    async def startup(app: FastAPI, res: Resources) -> AsyncIterator[None]:
        background = BackgroundWork()
        runs = app.state.watch_runs = build_watch(settings, res, background)
        app.state.watch_live = LiveRuns(
            runs,
            cache=res.cache,
            pubsub=build_pubsub(res.cache),
            sealer=res.security.sealer,
            background=background,
            options=LiveOptions(settings.WATCH_LINE_PAUSE_S, settings.WATCH_LOG_TTL_S),
            budget=res.model_budget,
        )
        try:
            yield
        finally:
            await background.drain(within_s=10.0)

    app = create_app(
        settings, service="watch", routers=[router, live_router, pages], startup=startup, resources=resources
    )
    app.add_middleware(SocketTransportProbe)  # outermost: sees the server's own send (socket backpressure)
    return app
