"""The scenario service over real HTTP for integration tests: uvicorn on a free port in the test's loop,
its own Redis key namespace, the Firestore emulator (or SQLite), the offline simple-response model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from functions.scenario.deps import ScenarioContext
from functions.scenario.main import create
from tests.support.chat_server import namespaced_resources
from tests.support.processes import free_port
from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.scenario.listing import ScenarioCatalogService
from workplace_roleplay.settings import ScenarioSettings


def scenario_test_settings(**overrides: Any) -> ScenarioSettings:
    values: dict[str, Any] = {"ENV": "test", "LOG_JSON": False, "LOG_LEVEL": "WARNING", **overrides}
    return ScenarioSettings(**values)


@dataclass
class ScenarioServer:
    url: str
    app: FastAPI

    @property
    def resources(self) -> Resources:
        res: Resources = self.app.state.resources
        return res

    @property
    def scenarios(self) -> ScenarioCatalogService:
        context = self.app.state.service_context
        assert isinstance(context, ScenarioContext)
        return context.scenarios

    async def sign_in(self) -> tuple[str, dict[str, str]]:
        """A fresh anonymous learner: (user id, Bearer headers)."""
        signed = await self.resources.security.identity.sign_in_anonymously()
        return signed.user_id, {"Authorization": f"Bearer {signed.access_token}"}


@asynccontextmanager
async def run_scenario_server(
    settings: ScenarioSettings, *, redis_url: str, namespace: str
) -> AsyncIterator[ScenarioServer]:
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
        raise RuntimeError("the scenario service did not start (see the log above)")
    try:
        yield ScenarioServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
