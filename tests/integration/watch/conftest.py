"""Fixtures of the watch integration tests: the real service over HTTP with its real neighbours."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.firestore_emulator import FirestoreEmulator
from tests.support.watch_server import WatchServer, run_watch_server, watch_test_settings

StartServer = Callable[..., Awaitable[WatchServer]]


@pytest.fixture
async def start_server(
    fake_gemini: FakeGeminiControl,
    firestore_emulator_clean: FirestoreEmulator,
    redis_url: str,
    redis_namespace: str,
    tmp_path: Path,
) -> AsyncIterator[StartServer]:
    """Start a watch service instance (Firestore emulator, real Redis, fake Gemini); call twice for two instances."""
    async with AsyncExitStack() as stack:

        async def start(send_buffer_bytes: int | None = None, **overrides: Any) -> WatchServer:
            values: dict[str, Any] = {
                "STORE_BACKEND": "firestore",
                "FIRESTORE_EMULATOR_HOST": firestore_emulator_clean.address,
                "GOOGLE_CLOUD_PROJECT": firestore_emulator_clean.project,
                "DATA_DIR": tmp_path,
                **overrides,
            }
            settings = watch_test_settings(fake_gemini.url, **values)
            return await stack.enter_async_context(
                run_watch_server(
                    settings, redis_url=redis_url, namespace=redis_namespace, send_buffer_bytes=send_buffer_bytes
                )
            )

        yield start


@pytest.fixture
async def server(start_server: StartServer) -> WatchServer:
    return await start_server()


@pytest.fixture
async def client(server: WatchServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as http:
        yield http
