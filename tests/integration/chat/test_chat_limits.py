"""Every chat route is rate limited: ordinary API routes and the page spend the "default" class."""

from __future__ import annotations

import httpx
import pytest

from functions.chat.pages import ASSETS
from tests.integration.chat.conftest import StartServer

pytestmark = pytest.mark.integration


async def test_ordinary_routes_answer_429_with_retry_after(start_server: StartServer) -> None:
    server = await start_server(RATE_LIMIT_DEFAULT_USER="3/60")
    _, headers = await server.sign_in()
    _, other = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        assert (await client.get("/api/v2/chat/conversations", headers=headers)).status_code == 200
        assert (await client.get("/api/v2/chat/memories", headers=headers)).status_code == 200
        assert (await client.get("/api/v2/chat/streams/t0000", headers=headers)).status_code == 404
        limited = await client.get("/api/v2/chat/conversations", headers=headers)
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        missing = await client.delete("/api/v2/chat/conversations/c0000", headers=headers)
        assert missing.status_code == 429  # limited before the lookup
        page = await client.get("/chat", headers=headers)
        assert page.status_code == 429
        assert int(page.headers["Retry-After"]) >= 1
        # Static assets are not (they carry no user and must load even for a limited learner).
        assert (await client.get(ASSETS.url("kit.js"))).status_code == 200
        # The model class is separate (a chat turn still goes through) and so is every other learner.
        turn = await client.post("/api/v2/chat", json={}, headers={**headers, "Accept": "application/json"})
        assert turn.status_code == 200, turn.text
        assert (await client.get("/api/v2/chat/conversations", headers=other)).status_code == 200
        assert (await client.get("/chat", headers=other)).status_code == 200
