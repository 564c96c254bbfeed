"""SSE framing, heartbeats, the replay buffer, and the turn response's "first event before the 200"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from prometheus_client import REGISTRY

from tests.support.engine import engine
from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.domain.sealing import PlainSealer
from workplace_roleplay.errors import NotFound
from workplace_roleplay.ports.model import ModelTask
from workplace_roleplay.web.errors import install_error_handlers
from workplace_roleplay.web.middleware import RequestContextMiddleware
from workplace_roleplay.web.sse import SseEvent, StreamBuffer, parse_event_id, with_heartbeats
from workplace_roleplay.web.turn_stream import turn_response


def test_events_are_framed_on_one_data_line_with_their_id() -> None:
    raw = SseEvent("token", {"text": "一行目\n二行目"}, "t1.3").encode().decode()
    assert raw == 'id: t1.3\nevent: token\ndata: {"text":"一行目\\n二行目"}\n\n'
    assert parse_event_id("tabc123.7") == ("tabc123", 7)
    assert parse_event_id("../x.1") is None
    assert parse_event_id("t1") is None


async def test_heartbeats_fill_silences() -> None:
    async def slow() -> AsyncIterator[SseEvent]:
        await asyncio.sleep(0.25)
        yield SseEvent("done", {})

    chunks = [chunk async for chunk in with_heartbeats(slow(), every_s=0.1)]
    assert chunks[:2] == [b": ping\n\n", b": ping\n\n"]
    assert chunks[-1].startswith(b"event: done")


async def test_replay_buffer_is_per_owner_and_resumes_after_an_id() -> None:
    cache = FakeCache()
    buffer = StreamBuffer(cache, "tx1", ttl_s=60, sealer=PlainSealer())
    await buffer.open("alice")
    sent = [await buffer.record("token", {"text": str(i)}) for i in range(3)]
    assert [e.id for e in await buffer.replay("alice", 1)] == [sent[1].id, sent[2].id]
    with pytest.raises(NotFound):
        await buffer.replay("mallory", 0)


def app_over(chat: ChatService, cache: FakeCache | None = None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    work = BackgroundWork()
    buffers = cache or FakeCache()
    conversations: list[Conversation] = []

    @app.post("/turn")
    async def turn(request: Request) -> Response:
        if not conversations:
            conversations.append(await chat.start("u1"))
        events = chat.turn(conversations[0], text="こんにちは", client_message_id="c1")
        return await turn_response(
            request,
            events,
            cache=buffers,
            owner="u1",
            buffer_ttl_s=60,
            sealer=PlainSealer(),
            heartbeat_s=15,
            background=work,
        )

    return app


def chat_over(model: FakeLanguageModel) -> ChatService:
    return engine(FakeStore(), FakeCache(), model)


async def test_a_model_failure_before_any_text_is_an_http_error_not_a_200_stream() -> None:
    model = FakeLanguageModel()
    model.fail_after_chunks = 0
    transport = httpx.ASGITransport(app=app_over(chat_over(model)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/turn", headers={"Accept": "text/event-stream"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_unavailable"


async def test_a_failure_after_some_text_arrives_as_an_error_event() -> None:
    model = FakeLanguageModel()
    model.replies = ["あいうえおかきくけこ"]
    model.fail_after_chunks = 2
    transport = httpx.ASGITransport(app=app_over(chat_over(model)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/turn", headers={"Accept": "text/event-stream"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in response.text.split("\n\n") if b]
    assert blocks[-1].splitlines()[1] == "event: error"
    assert json.loads(blocks[-1].splitlines()[2].removeprefix("data: "))["partial_text"] == "あいうえおか"


async def test_json_clients_get_the_whole_turn_at_once() -> None:
    model = FakeLanguageModel()
    model.replies = ["はい、どうぞ。"]
    transport = httpx.ASGITransport(app=app_over(chat_over(model)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/turn", headers={"Accept": "application/json"})
    body = response.json()
    assert body["text"] == "はい、どうぞ。"
    assert body["status"] == "complete"
    assert body["learner_message_id"].endswith("-l")


async def test_a_retry_while_the_turn_still_streams_follows_its_live_buffer() -> None:
    model = FakeLanguageModel()
    model.replies = ["あいうえおかきくけこさしすせそ"]
    model.chunk_delay_s = 0.05
    cache = FakeCache()
    transport = httpx.ASGITransport(app=app_over(chat_over(model), cache))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = asyncio.create_task(client.post("/turn", headers={"Accept": "text/event-stream"}))
        for _ in range(500):  # until the first request's replay buffer exists
            if any(key.startswith("stream:") for key in cache.lists):
                break
            await asyncio.sleep(0.01)
        retry = await client.post("/turn", headers={"Accept": "text/event-stream"})
        original = await first
    assert retry.status_code == 200
    assert "event: done" in retry.text
    assert retry.text.count("event: token") == original.text.count("event: token")
    assert len(model.tasks(ModelTask.CONVERSATION_TURN)) == 1  # the retry never reached the model


async def test_the_first_token_sent_is_timed_from_the_request_start_once_per_stream() -> None:
    model = FakeLanguageModel()
    model.replies = ["はい、どうぞ。よろしくお願いします。"] * 2
    model.chunk_delay_s = 0.05
    app = RequestContextMiddleware(app_over(chat_over(model)), service="turn-unit", max_body_bytes=10_000)
    labels = {"service": "turn-unit", "route": "/turn"}
    before = REGISTRY.get_sample_value("stream_first_token_seconds_count", labels) or 0.0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/turn", headers={"Accept": "text/event-stream"})
        assert response.text.count("event: token") >= 2
        assert REGISTRY.get_sample_value("stream_first_token_seconds_count", labels) == before + 1
        # A JSON client is not streamed to: nothing to time.
        await client.post("/turn", headers={"Accept": "application/json"})
    assert REGISTRY.get_sample_value("stream_first_token_seconds_count", labels) == before + 1
