"""Wiring of the chat service (Cloud Run: ``uvicorn --factory functions.chat.main:create``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from functions.chat.pages import pages
from functions.chat.routes import router
from workplace_roleplay.bootstrap import Resources, open_resources
from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.domain.modes.chat import ChatMode
from workplace_roleplay.settings import ChatSettings, load_settings
from workplace_roleplay.web.app import ResourceOpener, create_app
from workplace_roleplay.web.engine import build_engine
from workplace_roleplay.web.ratings import ratings_router


def build_chat(settings: ChatSettings, res: Resources, background: BackgroundWork) -> ConversationService:
    """The conversation engine in chat mode over this service's resources."""
    return build_engine(settings, res, background, ChatMode())


def create(settings: ChatSettings | None = None, *, resources: ResourceOpener = open_resources) -> FastAPI:
    """Build the chat app from the environment's settings (tests pass their own resource opener)."""
    settings = settings or load_settings(ChatSettings)

    @asynccontextmanager
    async def startup(app: FastAPI, res: Resources) -> AsyncIterator[None]:
        background = BackgroundWork()
        res.conversations = build_chat(settings, res, background)
        try:
            yield
        finally:
            # Rolling summaries and memory extraction still running finish before the store closes.
            await background.drain(within_s=10.0)

    return create_app(
        settings,
        service="chat",
        routers=[router, ratings_router(load_catalog().get("chat").api_prefix, tag="chat"), pages],
        startup=startup,
        template_dir=Path(__file__).parent / "templates",
        resources=resources,
    )
