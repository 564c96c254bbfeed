"""Fixtures of the scenario integration tests: the real service over HTTP, Firestore emulator, real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.firestore_emulator import FirestoreEmulator
from tests.support.scenario_server import ScenarioServer, run_scenario_server, scenario_test_settings

StartServer = Callable[..., Awaitable[ScenarioServer]]


@pytest.fixture
async def start_server(
    firestore_emulator_clean: FirestoreEmulator, redis_url: str, redis_namespace: str, tmp_path: Path
) -> AsyncIterator[StartServer]:
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> ScenarioServer:
            settings = scenario_test_settings(
                STORE_BACKEND="firestore",
                FIRESTORE_EMULATOR_HOST=firestore_emulator_clean.address,
                GOOGLE_CLOUD_PROJECT=firestore_emulator_clean.project,
                DATA_DIR=tmp_path,
                **overrides,
            )
            return await stack.enter_async_context(
                run_scenario_server(settings, redis_url=redis_url, namespace=redis_namespace)
            )

        yield start


@pytest.fixture
async def server(start_server: StartServer) -> ScenarioServer:
    return await start_server()


@pytest.fixture
async def client(server: ScenarioServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as http:
        yield http
