"""The watch service over real HTTP for integration tests (uvicorn on a free port, namespaced Redis, the Firestore
emulator, the fake Gemini server), and helpers that read its line streams."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from functions.watch.main import create
from tests.support.chat_server import MODELS, Event, namespaced_resources, parse_sse
from tests.support.processes import free_port
from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.modes.watch.run import WatchRuns
from workplace_roleplay.settings import WatchSettings

WATCH_MODELS = {**MODELS, "MODEL_TASK_OVERRIDES": {**MODELS["MODEL_TASK_OVERRIDES"], "quiz": "quiz-model"}}  # type: ignore[dict-item]
PREFIX = "/api/v2/watch"


def watch_test_settings(gemini_url: str | None, **overrides: Any) -> WatchSettings:
    values: dict[str, Any] = {
        "ENV": "test",
        "LOG_JSON": False,
        "LOG_LEVEL": "WARNING",
        "MODEL_RETRY_ATTEMPTS": 1,
        "MODEL_RETRY_BASE_DELAY_S": 0.01,
        "MODEL_FIRST_TOKEN_TIMEOUT_S": 5.0,
        "MODEL_TOTAL_TIMEOUT_S": 20.0,
        "MODEL_BREAKER_FAILURES": 50,
        **WATCH_MODELS,
    }
    if gemini_url is not None:
        values.update(GEMINI_API_KEY="watch-test-key", GEMINI_BASE_URL=gemini_url)
    values.update(overrides)
    return WatchSettings(**values)


@dataclass
class WatchServer:
    url: str
    app: FastAPI

    @property
    def resources(self) -> Resources:
        res: Resources = self.app.state.resources
        return res

    @property
    def runs(self) -> WatchRuns:
        runs: WatchRuns = self.app.state.watch_runs
        return runs

    async def sign_in(self) -> tuple[str, dict[str, str]]:
        """A fresh anonymous learner: (user id, Bearer headers)."""
        signed = await self.resources.security.identity.sign_in_anonymously()
        claims = self.resources.security.identity.verify_access(signed.access_token)
        return claims.user_id, {"Authorization": f"Bearer {signed.access_token}"}


@asynccontextmanager
async def run_watch_server(
    settings: WatchSettings, *, redis_url: str, namespace: str, send_buffer_bytes: int | None = None
) -> AsyncIterator[WatchServer]:
    """``send_buffer_bytes``: the kernel send buffer of every accepted socket (inherited from the listening one),
    to stand for a constrained network path where a client that stops reading fills the buffers quickly."""
    app = create(settings, resources=namespaced_resources(redis_url, namespace))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    listening = None
    if send_buffer_bytes is not None:
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)
        listening.bind(("127.0.0.1", port))
    task = asyncio.create_task(server.serve(sockets=[listening] if listening else None))
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        task.cancel()
        raise RuntimeError("the watch service did not start (see the log above)")
    try:
        yield WatchServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def post_stream(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> tuple[int, list[Event], str]:
    """POST to a streaming route and read the whole SSE body: (status, events, raw text)."""
    async with client.stream(
        "POST", PREFIX + path, json=body or {}, headers={**headers, "Accept": "text/event-stream"}
    ) as response:
        raw = (await response.aread()).decode()
    return response.status_code, parse_sse(raw) if response.status_code == 200 else [], raw


async def start_run(client: httpx.AsyncClient, headers: dict[str, str], **settings: str) -> str:
    response = await client.post(f"{PREFIX}/conversations", json=settings, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def next_line(client: httpx.AsyncClient, headers: dict[str, str], conversation_id: str) -> list[Event]:
    status, events, raw = await post_stream(client, f"/conversations/{conversation_id}/next", headers)
    assert status == 200, raw
    assert events[-1].name == "done", raw
    return events
