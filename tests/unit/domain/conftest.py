"""Fixtures of the domain unit tests: the chat service over in-process fakes of our ports."""

from __future__ import annotations

import pytest

from tests.support.engine import engine
from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.domain.conversation.service import EngineOptions


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
    return engine(store, cache, model, background, options=EngineOptions(**options))


@pytest.fixture
def chat(store: FakeStore, cache: FakeCache, model: FakeLanguageModel, background: BackgroundWork) -> ChatService:
    return make_service(store, cache, model, background)
