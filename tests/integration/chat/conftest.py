"""Fixtures of the chat integration tests: the real service over HTTP with its real neighbours."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.chat_server import ChatServer, chat_test_settings, run_chat_server
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.firestore_emulator import FirestoreEmulator

StartServer = Callable[..., Awaitable[ChatServer]]


@pytest.fixture
async def start_server(
    fake_gemini: FakeGeminiControl,
    firestore_emulator_clean: FirestoreEmulator,
    redis_url: str,
    redis_namespace: str,
    tmp_path: Path,
) -> AsyncIterator[StartServer]:
    """Start the chat service (Firestore emulator, real Redis, fake Gemini) with setting overrides."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> ChatServer:
            values: dict[str, Any] = {
                "STORE_BACKEND": "firestore",
                "FIRESTORE_EMULATOR_HOST": firestore_emulator_clean.address,
                "GOOGLE_CLOUD_PROJECT": firestore_emulator_clean.project,
                "DATA_DIR": tmp_path,
                **overrides,
            }
            settings = chat_test_settings(fake_gemini.url, **values)
            return await stack.enter_async_context(
                run_chat_server(settings, redis_url=redis_url, namespace=redis_namespace)
            )

        yield start


@pytest.fixture
async def server(start_server: StartServer) -> ChatServer:
    return await start_server()


@pytest.fixture
async def client(server: ChatServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as http:
        yield http
