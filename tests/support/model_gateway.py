"""Building the real model gateway against the fake Gemini server, and reading its streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.support.fakes import FakeCache
from workplace_roleplay.adapters.resilient_model import ResilientModel
from workplace_roleplay.bootstrap import build_language_model
from workplace_roleplay.ports import Cache, Clock, SystemClock
from workplace_roleplay.ports.model import (
    ChatMessage,
    Completion,
    GenerationRequest,
    ModelTask,
    StreamEvent,
    TextDelta,
)
from workplace_roleplay.settings import ChatSettings

FLASH = "gemini-2.5-flash"
PRO = "gemini-2.5-pro"


def gateway_settings(url: str, **overrides: Any) -> ChatSettings:
    """Settings pointing at the fake with short, test-sized delays and timeouts."""
    values: dict[str, Any] = {
        "GEMINI_API_KEY": "primary-key",
        "GEMINI_BASE_URL": url,
        "MODEL_FLASH": FLASH,
        "MODEL_PRO": PRO,
        "MODEL_RETRY_ATTEMPTS": 2,
        "MODEL_RETRY_BASE_DELAY_S": 0.01,
        "MODEL_RETRY_MAX_DELAY_S": 1.0,
        "MODEL_FIRST_TOKEN_TIMEOUT_S": 3.0,
        "MODEL_TOTAL_TIMEOUT_S": 10.0,
        "MODEL_BREAKER_FAILURES": 50,
    }
    values.update(overrides)
    return ChatSettings(**values)


@asynccontextmanager
async def open_gateway(
    settings: ChatSettings, *, cache: Cache | None = None, clock: Clock | None = None
) -> AsyncIterator[ResilientModel]:
    model = build_language_model(settings, cache or FakeCache(), clock or SystemClock())
    assert isinstance(model, ResilientModel), f"expected the Gemini gateway, got {type(model).__name__}"
    try:
        yield model
    finally:
        await model.close()


def turn(
    text: str = "お疲れさまです。今少しよろしいですか。", task: ModelTask = ModelTask.CONVERSATION_TURN
) -> GenerationRequest:
    return GenerationRequest(
        task=task,
        system="あなたは職場の先輩です。",
        messages=[ChatMessage("user", text)],
        hints={"persona": "佐藤先輩", "topic": "週次報告"},
    )


async def collect(events: AsyncIterator[StreamEvent]) -> tuple[list[str], Completion]:
    """The deltas' texts and the one Completion that must end every stream."""
    deltas: list[str] = []
    completion: Completion | None = None
    async for event in events:
        assert completion is None, "nothing may follow the Completion"
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            completion = event
    assert completion is not None, "a stream must end with a Completion"
    return deltas, completion
