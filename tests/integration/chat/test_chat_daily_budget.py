"""The learner's daily model budget on the chat service over real HTTP (fake Gemini, real Redis, Firestore
emulator): the same shared dependency guards every model-calling route of every service (ADR 0034)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.integration.chat.conftest import StartServer
from tests.support.fake_gemini import FakeGeminiControl

pytestmark = pytest.mark.integration
JSON = {"Accept": "application/json"}


async def test_chat_turns_and_reports_stop_at_the_daily_budget_with_a_japanese_reason_and_reset_time(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    server = await start_server(MODEL_DAILY_BUDGET_USER=3)
    _, headers = await server.sign_in()
    _, other = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        opened = await client.post("/api/v2/chat", json={}, headers={**headers, **JSON})  # 1
        assert opened.status_code == 200, opened.text
        cid = opened.json()["conversation_id"]
        for n, text in enumerate(("おはようございます", "今日の予定を教えてください"), start=2):  # 2, 3
            said = await client.post(
                "/api/v2/chat",
                json={"conversation_id": cid, "message": text, "client_message_id": f"m{n}"},
                headers={**headers, **JSON},
            )
            assert said.status_code == 200, said.text
        calls = len(fake_gemini.requests())
        refused = await client.post(
            "/api/v2/chat",
            json={"conversation_id": cid, "message": "もう一ついいですか", "client_message_id": "m4"},
            headers={**headers, **JSON},
        )
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "daily_budget_exceeded"
        assert "本日のAI利用回数の上限" in error["message"]
        resets = dt.datetime.fromisoformat(error["resets_at"])
        assert resets.utcoffset() == dt.timedelta(hours=9)
        assert (resets.hour, resets.minute) == (0, 0)
        assert int(refused.headers["Retry-After"]) == error["retry_after"]
        assert abs(error["retry_after"] - (resets - dt.datetime.now(dt.UTC)).total_seconds()) < 10
        report = await client.post(f"/api/v2/chat/conversations/{cid}/feedback", headers={**headers, **JSON})
        assert report.status_code == 429
        assert len(fake_gemini.requests()) == calls  # refused before any model call
        # What needs no model call still works; the conversation is intact; another learner is not affected.
        listed = await client.get("/api/v2/chat/conversations", headers={**headers, **JSON})
        assert listed.status_code == 200
        assert (await client.post("/api/v2/chat", json={}, headers={**other, **JSON})).status_code == 200
