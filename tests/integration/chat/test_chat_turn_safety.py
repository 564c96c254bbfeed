"""Turns that race, repeat or lose their server (issue 13 items 5 and 7; ADR 0010).

One turn at a time per conversation: a second learner line sent while a turn is being answered gets
``409 turn_in_progress`` and the conversation's counters stay exact, on both store adapters.
A client message id names one line: the same id with other text is ``409 idempotency_conflict``, and
a plain retry that replays a turn leaves the original stream's numbering intact for a resume.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.integration.chat.conftest import StartServer
from tests.support.chat_server import stream_turn
from tests.support.fake_gemini import FakeGeminiControl

pytestmark = pytest.mark.integration


async def opened(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    status, events, raw = await stream_turn(client, headers, {"partner_type": "senior"})
    assert status == 200, raw
    return str(events[0].data["conversation_id"])


@pytest.mark.parametrize("backend", ["sqlite", "firestore"])
async def test_six_parallel_turns_on_one_conversation_lose_no_update(
    start_server: StartServer, fake_gemini: FakeGeminiControl, backend: str
) -> None:
    server = await start_server(STORE_BACKEND=backend)
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        user, headers = await server.sign_in()
        conversation_id = await opened(client, headers)
        fake_gemini.configure(text="はい、承知しました。少々お待ちください。", chunk_chars=3, chunk_delay_ms=60)

        async def send(n: int) -> httpx.Response:
            body = {"conversation_id": conversation_id, "message": f"質問その{n}です", "client_message_id": f"p{n}"}
            return await client.post("/api/v2/chat", json=body, headers={**headers, "Accept": "application/json"})

        answers = await asyncio.gather(*(send(n) for n in range(6)))
        fake_gemini.configure(chunk_delay_ms=0)
        codes = sorted(r.status_code for r in answers)
        assert set(codes) <= {200, 409}, [r.text for r in answers]
        assert codes.count(200) >= 1
        refused = [r.json() for r in answers if r.status_code == 409]
        assert all(body["error"]["code"] == "turn_in_progress" for body in refused), refused
        # Every learner line that was accepted got its reply, and turn_count counts exactly those lines.
        detail = (await client.get(f"/api/v2/chat/conversations/{conversation_id}", headers=headers)).json()
        learner_lines = [m for m in detail["messages"] if m["role"] == "learner"]
        replies = [m for m in detail["messages"] if m["role"] == "counterpart"]
        assert len(learner_lines) == codes.count(200)
        assert len(replies) == len(learner_lines) + 1  # plus the opening line
        stored = await server.resources.store.get(f"users/{user}/conversations/{conversation_id}")
        assert stored is not None
        assert stored["turn_count"] == len(learner_lines)
        # The conversation is free again: the next line is answered.
        later = await send(99)
        assert later.status_code == 200, later.text
        stored = await server.resources.store.get(f"users/{user}/conversations/{conversation_id}")
        assert stored is not None
        assert stored["turn_count"] == len(learner_lines) + 1


async def test_the_same_client_message_id_with_other_text_is_an_idempotency_conflict(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    server = await start_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        _, headers = await server.sign_in()
        conversation_id = await opened(client, headers)
        body: dict[str, Any] = {
            "conversation_id": conversation_id,
            "message": "明日は休みます",
            "client_message_id": "k1",
        }
        first = await client.post("/api/v2/chat", json=body, headers={**headers, "Accept": "application/json"})
        assert first.status_code == 200, first.text
        other = {**body, "message": "明日は出社します"}
        for accept in ("application/json", "text/event-stream"):
            refused = await client.post("/api/v2/chat", json=other, headers={**headers, "Accept": accept})
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "idempotency_conflict"
        same = await client.post("/api/v2/chat", json=body, headers={**headers, "Accept": "application/json"})
        assert same.status_code == 200
        assert same.json()["replayed"] is True
        assert same.json()["text"] == first.json()["text"]
        detail = (await client.get(f"/api/v2/chat/conversations/{conversation_id}", headers=headers)).json()
        assert [m["text"] for m in detail["messages"] if m["role"] == "learner"] == ["明日は休みます"]


async def test_a_resume_after_a_plain_retry_delivers_exactly_what_was_missed(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    server = await start_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        _, headers = await server.sign_in()
        conversation_id = await opened(client, headers)
        fake_gemini.configure(text="一二三四五六七八九十", chunk_chars=2)
        body = {"conversation_id": conversation_id, "message": "数えてください", "client_message_id": "count"}
        status, events, raw = await stream_turn(client, headers, body)
        assert status == 200, raw
        assert [e.name for e in events][-2:] == ["analysis", "done"]
        # A plain retry (no Last-Event-ID) is answered from the store ...
        status, replayed, raw = await stream_turn(client, headers, body)
        assert status == 200, raw
        assert replayed[-1].data["replayed"] is True
        # ... and the original stream, resumed after its third event, still gets exactly the rest.
        status, resumed, raw = await stream_turn(client, headers, body, **{"Last-Event-ID": events[2].id})
        assert status == 200, raw
        assert [(e.id, e.name, e.data) for e in resumed] == [(e.id, e.name, e.data) for e in events[3:]]


async def test_the_next_line_sent_on_reading_done_is_not_refused(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    """The lease is cleared before ``done`` is sent: a client acting on ``done`` at once meets no 409."""
    server = await start_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        _, headers = await server.sign_in()
        conversation_id = await opened(client, headers)
        body = {"conversation_id": conversation_id, "message": "一つ目です", "client_message_id": "n1"}
        following = {**body, "message": "二つ目です", "client_message_id": "n2"}
        sse = {**headers, "Accept": "text/event-stream"}
        async with client.stream("POST", "/api/v2/chat", json=body, headers=sse) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line == "event: done":
                    answer = await client.post(
                        "/api/v2/chat", json=following, headers={**headers, "Accept": "application/json"}
                    )
                    assert answer.status_code == 200, answer.text
                    break
            else:
                raise AssertionError("the stream ended without a done event")
