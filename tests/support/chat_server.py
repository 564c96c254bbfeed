"""The chat service over real HTTP for integration tests: uvicorn on a free port in the test's loop,
a Redis key namespace of its own, the Firestore emulator or SQLite, and the fake Gemini server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from functions.chat.main import create
from tests.support.processes import free_port
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.bootstrap import Resources, build_language_model, build_store
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.settings import ChatSettings, ServiceSettings

# One model name per task, so the fake's scripts and request log separate them cleanly.
MODELS = {
    "MODEL_FLASH": "chat-flash",
    "MODEL_PRO": "chat-pro",
    "MODEL_EMBEDDING": "embed-model",
    "MODEL_TASK_OVERRIDES": {
        "turn_analysis": "coach-model",
        "memory_extraction": "memory-model",
        "summary": "summary-model",
        "feedback_report": "grader-model",
    },
}


def chat_test_settings(gemini_url: str, **overrides: Any) -> ChatSettings:
    values: dict[str, Any] = {
        "ENV": "test",
        "LOG_JSON": False,
        "LOG_LEVEL": "WARNING",
        "GEMINI_API_KEY": "chat-test-key",
        "GEMINI_BASE_URL": gemini_url,
        "MODEL_RETRY_ATTEMPTS": 1,
        "MODEL_RETRY_BASE_DELAY_S": 0.01,
        "MODEL_FIRST_TOKEN_TIMEOUT_S": 5.0,
        "MODEL_TOTAL_TIMEOUT_S": 20.0,
        "MODEL_BREAKER_FAILURES": 50,
        "SSE_HEARTBEAT_S": 15.0,
        **MODELS,
    }
    values.update(overrides)
    return ChatSettings(**values)


def namespaced_resources(
    redis_url: str, namespace: str
) -> Callable[[ServiceSettings], AbstractAsyncContextManager[Resources]]:
    """``open_resources`` with every Redis key of this test under ``namespace`` (the server is shared)."""

    @asynccontextmanager
    async def opener(settings: ServiceSettings) -> AsyncIterator[Resources]:
        clock = SystemClock()
        async with AsyncExitStack() as stack:
            store = await build_store(settings)
            stack.push_async_callback(store.close)
            cache = RedisCache.from_url(redis_url, timeout_s=1.0, clock=clock, namespace=namespace)
            stack.push_async_callback(cache.close)
            model = build_language_model(settings, cache, clock)
            stack.push_async_callback(model.close)
            yield Resources(
                settings=settings,
                store=store,
                cache=cache,
                clock=clock,
                rate_limiter=RedisRateLimiter(cache.connection, namespace=namespace),
                model=model,
            )

    return opener


@dataclass
class ChatServer:
    url: str
    app: FastAPI

    @property
    def resources(self) -> Resources:
        res: Resources = self.app.state.resources
        return res

    @property
    def chat(self) -> ChatService:
        service = self.resources.conversations
        assert service is not None
        return service

    async def sign_in(self) -> tuple[str, dict[str, str]]:
        """A fresh anonymous learner: (user id, Bearer headers)."""
        signed = await self.resources.security.identity.sign_in_anonymously()
        claims = self.resources.security.identity.verify_access(signed.access_token)
        return claims.user_id, {"Authorization": f"Bearer {signed.access_token}"}


@asynccontextmanager
async def run_chat_server(settings: ChatSettings, *, redis_url: str, namespace: str) -> AsyncIterator[ChatServer]:
    app = create(settings, resources=namespaced_resources(redis_url, namespace))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        task.cancel()
        raise RuntimeError("the chat service did not start (see the log above)")
    try:
        yield ChatServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@dataclass
class Event:
    name: str
    data: dict[str, Any]
    id: str


def parse_sse(raw: str) -> list[Event]:
    """Events of an SSE body (comments skipped)."""
    events: list[Event] = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        name, data, event_id = "message", "", ""
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data += value
            elif field == "id":
                event_id = value
        if data:
            events.append(Event(name, json.loads(data), event_id))
    return events


async def stream_turn(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra_headers: str
) -> tuple[int, list[Event], str]:
    """POST a turn and read its whole SSE body: (status, events, raw text)."""
    async with client.stream(
        "POST", "/api/v2/chat", json=body, headers={**headers, "Accept": "text/event-stream", **extra_headers}
    ) as response:
        raw = (await response.aread()).decode()
    return response.status_code, parse_sse(raw) if response.status_code == 200 else [], raw
