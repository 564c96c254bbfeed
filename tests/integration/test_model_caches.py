"""``ai_cache`` and ``tts_cache`` against real Redis, the TTS route and its daily budget."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from pydantic import BaseModel, Field

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.fakes import FakeStore
from tests.support.model_gateway import PRO, gateway_settings, open_gateway
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.bootstrap import Resources, build_speech
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.model import ChatMessage, GenerationRequest, ModelTask
from workplace_roleplay.settings import ChatSettings, ServiceSettings
from workplace_roleplay.web.app import create_app

pytestmark = pytest.mark.integration


class Summary(BaseModel):
    summary: str = Field(max_length=300)
    key_points: list[str] = Field(max_length=3)


def _request(task: ModelTask = ModelTask.SUMMARY, temperature: float | None = 0) -> GenerationRequest:
    return GenerationRequest(
        task=task,
        system="会話を要約してください。",
        messages=[ChatMessage("user", "来週の会議資料は金曜までに送ります。"), ChatMessage("model", "助かります。")],
        temperature=temperature,
    )


@pytest.fixture
async def redis_cache(redis_url: str, redis_namespace: str) -> AsyncIterator[RedisCache]:
    cache = RedisCache.from_url(redis_url, timeout_s=1.0, clock=SystemClock(), namespace=redis_namespace)
    try:
        yield cache
    finally:
        await cache.close()


def _keys(redis_url: str, pattern: str) -> list[bytes]:
    client = redis.Redis.from_url(redis_url)
    try:
        return list(client.scan_iter(match=pattern))
    finally:
        client.close()


async def test_second_identical_structured_call_is_served_from_ai_cache(
    fake_gemini: FakeGeminiControl, redis_cache: RedisCache, redis_url: str, redis_namespace: str
) -> None:
    async with open_gateway(gateway_settings(fake_gemini.url), cache=redis_cache) as model:
        first = await model.generate_structured(_request(), Summary)
        second = await model.generate_structured(_request(), Summary)
    assert first.cached is False
    assert second.cached is True
    assert second.value == first.value
    assert second.completion.model == PRO
    assert len(fake_gemini.requests()) == 1, "the second call must not reach the model"
    keys = _keys(redis_url, f"{redis_namespace}ai_cache:*")
    assert len(keys) == 1
    ttl = redis.Redis.from_url(redis_url).ttl(keys[0])
    assert 0 < ttl <= ChatSettings().AI_CACHE_TTL_S


async def test_ai_cache_misses_when_prompt_or_schema_changes_and_skips_turns(
    fake_gemini: FakeGeminiControl, redis_cache: RedisCache
) -> None:
    class SummaryV2(Summary):
        mood: str = ""

    async with open_gateway(gateway_settings(fake_gemini.url), cache=redis_cache) as model:
        await model.generate_structured(_request(), Summary)
        await model.generate_structured(_request(), SummaryV2)  # new schema version
        await model.generate_structured(_request(temperature=0.7), Summary)  # not deterministic
        for _ in range(2):  # a conversation turn is never cached, even at temperature 0
            await model.generate_structured(_request(task=ModelTask.CONVERSATION_TURN), Summary)
    assert len(fake_gemini.requests()) == 5


@asynccontextmanager
async def _tts_app(settings: ServiceSettings, cache: RedisCache) -> AsyncIterator[httpx.AsyncClient]:
    @asynccontextmanager
    async def resources(s: ServiceSettings) -> AsyncIterator[Resources]:
        clock = SystemClock()
        speech = build_speech(s, cache, clock)
        yield Resources(settings=s, store=FakeStore(), cache=cache, clock=clock, speech=speech)
        if speech is not None:
            await speech.synthesizer.close()  # type: ignore[attr-defined]

    app: FastAPI = create_app(settings, service="chat", resources=resources)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def _tts_settings(url: str, **overrides: Any) -> ChatSettings:
    return gateway_settings(url, TTS_ENABLED=True, TTS_MODEL="gemini-tts-test", **overrides)


async def test_tts_second_request_is_a_cache_hit(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    async with _tts_app(_tts_settings(fake_gemini.url), redis_cache) as client:
        first = await client.post("/api/v2/chat/tts", json={"text": "おはようございます。", "character": "taro"})
        second = await client.get("/api/v2/chat/tts", params={"text": "おはようございます。", "character": "taro"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "audio/wav"
    assert first.headers["x-tts-cache"] == "miss"
    assert second.headers["x-tts-cache"] == "hit"
    assert second.content == first.content
    with wave.open(io.BytesIO(first.content)) as audio:
        assert audio.getframerate() == 24000
        assert audio.getnframes() > 0
    sent = fake_gemini.requests()
    assert len(sent) == 1
    assert sent[0]["model"] == "gemini-tts-test"
    config = sent[0]["body"]["generationConfig"]
    assert config["responseModalities"] == ["AUDIO"]
    # The SDK sends the inner keys of speechConfig in either spelling; the voice is what matters.
    assert '"Puck"' in json.dumps(config["speechConfig"])  # taro's voice


async def test_tts_budget_exhausted_is_a_clear_429(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    settings = _tts_settings(fake_gemini.url, TTS_DAILY_CHARS_PER_USER=12)
    async with _tts_app(settings, redis_cache) as client:
        ok = await client.post("/api/v2/chat/tts", json={"text": "承知しました。"})  # 7 characters
        over = await client.post("/api/v2/chat/tts", json={"text": "確認いたします。"})  # 8 more: over 12
        replay = await client.post("/api/v2/chat/tts", json={"text": "承知しました。"})  # cached: free
        small = await client.post("/api/v2/chat/tts", json={"text": "はい。"})  # 3: still fits
    assert ok.status_code == 200
    assert over.status_code == 429
    error = over.json()["error"]
    assert error["code"] == "tts_budget_exceeded"
    assert error["message"] == "本日の音声読み上げの上限に達しました。明日またお試しください。"
    assert 0 < int(over.headers["retry-after"]) <= 86401
    assert replay.status_code == 200
    assert replay.headers["x-tts-cache"] == "hit"
    assert small.status_code == 200, "a refused request must not use up the budget"
    assert len(fake_gemini.requests()) == 2


async def test_tts_is_off_by_default(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    async with _tts_app(gateway_settings(fake_gemini.url), redis_cache) as client:
        response = await client.post("/api/v2/chat/tts", json={"text": "こんにちは"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "feature_unavailable"
    assert fake_gemini.requests() == []
