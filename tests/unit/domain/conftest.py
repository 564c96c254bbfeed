"""Fixtures of the domain unit tests: the chat service over in-process fakes of our ports."""

from __future__ import annotations

import pytest

from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeCache, FakeStore
from tests.support.ticking_clock import TickingClock
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.modes.chat_service import ChatOptions, ChatService


@pytest.fixture
def model() -> FakeLanguageModel:
    return FakeLanguageModel()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def cache() -> FakeCache:
    return FakeCache()


@pytest.fixture
def background() -> BackgroundWork:
    return BackgroundWork()


def make_service(
    store: FakeStore,
    cache: FakeCache,
    model: FakeLanguageModel,
    background: BackgroundWork,
    **options: int,
) -> ChatService:
    return ChatService(
        store=store,
        cache=cache,
        model=model,
        clock=TickingClock(),
        moderator=Moderator.from_files(),
        background=background,
        options=ChatOptions(**options),
    )


@pytest.fixture
def chat(store: FakeStore, cache: FakeCache, model: FakeLanguageModel, background: BackgroundWork) -> ChatService:
    return make_service(store, cache, model, background)
