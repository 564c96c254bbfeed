"""``ai_cache`` and ``tts_cache`` against real Redis, the TTS route and its daily budget."""

from __future__ import annotations

import hashlib
import io
import json
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from pydantic import BaseModel, Field

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.fakes import FakeStore
from tests.support.model_gateway import PRO, gateway_settings, open_gateway
from workplace_roleplay.adapters.ai_cache import LEARNER_DERIVED
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.bootstrap import Resources, build_speech
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.model import ChatMessage, GenerationRequest, ModelTask
from workplace_roleplay.settings import ChatSettings, ServiceSettings
from workplace_roleplay.web.app import create_app
from workplace_roleplay.web.csrf import issue_csrf_token

pytestmark = pytest.mark.integration


class Summary(BaseModel):
    summary: str = Field(max_length=300)
    key_points: list[str] = Field(max_length=3)


def _request(task: ModelTask = ModelTask.QUIZ, temperature: float | None = 0) -> GenerationRequest:
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


async def test_results_that_retell_the_learner_are_never_cached_in_plaintext(
    fake_gemini: FakeGeminiControl, redis_cache: RedisCache, redis_url: str, redis_namespace: str
) -> None:
    # Coaching, summaries, reports and memories quote the learner: their callers cache them sealed.
    async with open_gateway(gateway_settings(fake_gemini.url), cache=redis_cache) as model:
        for task in sorted(LEARNER_DERIVED):
            for _ in range(2):
                result = await model.generate_structured(_request(task=task), Summary)
                assert result.cached is False
    assert len(fake_gemini.requests()) == 2 * len(LEARNER_DERIVED)
    assert _keys(redis_url, f"{redis_namespace}ai_cache:*") == []


@dataclass
class TtsApp:
    """The chat service's app in process, with a way to sign learners in through its own key ring."""

    client: httpx.AsyncClient
    resources: Resources

    async def sign_in(self) -> tuple[str, str]:
        """A fresh anonymous learner: (user id, access token)."""
        identity = self.resources.security.identity
        signed = await identity.sign_in_anonymously()
        return identity.verify_access(signed.access_token).user_id, signed.access_token

    async def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {(await self.sign_in())[1]}"}


@asynccontextmanager
async def _tts_app(settings: ServiceSettings, cache: RedisCache) -> AsyncIterator[TtsApp]:
    @asynccontextmanager
    async def resources(s: ServiceSettings) -> AsyncIterator[Resources]:
        clock = SystemClock()
        speech = build_speech(s, cache, clock)
        yield Resources(settings=s, store=FakeStore(), cache=cache, clock=clock, speech=speech)
        if speech is not None:
            await speech.synthesizer.close()

    app: FastAPI = create_app(settings, service="chat", resources=resources)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield TtsApp(client, app.state.resources)


def _tts_settings(url: str, **overrides: Any) -> ChatSettings:
    return gateway_settings(url, TTS_ENABLED=True, TTS_MODEL="gemini-tts-test", **overrides)


async def test_tts_second_request_is_a_cache_hit(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    async with _tts_app(_tts_settings(fake_gemini.url), redis_cache) as tts:
        auth = await tts.bearer()
        line = {"text": "おはようございます。", "character": "taro"}
        first = await tts.client.post("/api/v2/chat/tts", json=line, headers=auth)
        second = await tts.client.get("/api/v2/chat/tts", params=line, headers=auth)
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


async def test_tts_budget_exhausted_is_a_clear_429_charged_to_the_user(
    fake_gemini: FakeGeminiControl, redis_cache: RedisCache, redis_url: str, redis_namespace: str
) -> None:
    settings = _tts_settings(fake_gemini.url, TTS_DAILY_CHARS_PER_USER=12)
    async with _tts_app(settings, redis_cache) as tts:
        user_id, token = await tts.sign_in()
        auth = {"Authorization": f"Bearer {token}"}

        async def speak(text: str, headers: dict[str, str] = auth) -> httpx.Response:
            return await tts.client.post("/api/v2/chat/tts", json={"text": text}, headers=headers)

        ok = await speak("承知しました。")  # 7 characters
        over = await speak("確認いたします。")  # 8 more: over 12
        replay = await speak("承知しました。")  # cached: free
        small = await speak("はい。")  # 3: still fits
        other = await speak("確認いたします。", await tts.bearer())  # another learner has their own budget
    assert ok.status_code == 200
    assert over.status_code == 429
    error = over.json()["error"]
    assert error["code"] == "tts_budget_exceeded"
    assert error["message"] == "本日の音声読み上げの上限に達しました。明日またお試しください。"
    assert 0 < int(over.headers["retry-after"]) <= 86401
    assert replay.status_code == 200
    assert replay.headers["x-tts-cache"] == "hit"
    assert small.status_code == 200, "a refused request must not use up the budget"
    assert other.status_code == 200
    assert len(fake_gemini.requests()) == 3
    # One budget per learner, keyed by the hashed user id (never by the client address).
    # ratelimit:{tts:<owner hash>}:<day>: the owner is the cluster hash tag (docs/redis-keys.md).
    budget_keys = _keys(redis_url, f"{redis_namespace}ratelimit:{{tts:*")
    budgets = {key.decode().split("{tts:", 1)[1].split("}", 1)[0] for key in budget_keys}
    assert len(budgets) == 2
    assert hashlib.sha256(f"user:{user_id}".encode()).hexdigest()[:32] in budgets


async def test_tts_requires_a_signed_in_user(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    async with _tts_app(_tts_settings(fake_gemini.url), redis_cache) as tts:
        anonymous = await tts.client.post("/api/v2/chat/tts", json={"text": "こんにちは"})
        by_url = await tts.client.get("/api/v2/chat/tts", params={"text": "こんにちは"})
        forged = await tts.client.post(
            "/api/v2/chat/tts", json={"text": "こんにちは"}, headers={"Authorization": "Bearer not-a-token"}
        )
    for response in (anonymous, by_url, forged):
        assert response.status_code == 401
        assert response.json()["error"]["message"]
    assert fake_gemini.requests() == []


async def test_tts_cookie_posts_need_the_csrf_token(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    settings = _tts_settings(fake_gemini.url)
    async with _tts_app(settings, redis_cache) as tts:
        user_id, token = await tts.sign_in()
        tts.client.cookies.set(settings.ACCESS_COOKIE_NAME, token)
        line = {"text": "お疲れさまです。"}
        without = await tts.client.post("/api/v2/chat/tts", json=line)
        by_url = await tts.client.get("/api/v2/chat/tts", params=line)  # a safe method needs no token
        csrf = issue_csrf_token(tts.resources.security.csrf_key, user_id)
        tts.client.cookies.set(settings.CSRF_COOKIE_NAME, csrf)
        with_token = await tts.client.post("/api/v2/chat/tts", json=line, headers={"X-CSRF-Token": csrf})
    assert without.status_code == 403
    assert without.json()["error"]["code"] == "csrf_missing"
    assert by_url.status_code == 200
    assert with_token.status_code == 200
    assert with_token.headers["x-tts-cache"] == "hit"
    assert len(fake_gemini.requests()) == 1


async def test_tts_spends_the_model_route_rate_limit(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    settings = _tts_settings(fake_gemini.url, RATE_LIMIT_MODEL_USER="2/60")
    async with _tts_app(settings, redis_cache) as tts:
        auth = await tts.bearer()
        line = {"text": "よろしくお願いします。"}
        # Cache hits count too: the limit protects the service, the budget protects the bill.
        codes = [(await tts.client.post("/api/v2/chat/tts", json=line, headers=auth)).status_code for _ in range(3)]
        denied = await tts.client.get("/api/v2/chat/tts", params=line, headers=auth)
        fresh = await tts.client.post("/api/v2/chat/tts", json=line, headers=await tts.bearer())
    assert codes == [200, 200, 429]
    assert denied.status_code == 429
    assert denied.json()["error"]["code"] == "rate_limited"
    assert int(denied.headers["retry-after"]) > 0
    assert fresh.status_code == 200, "another learner is not limited by this one's calls"
    assert len(fake_gemini.requests()) == 1


async def test_tts_is_off_by_default(fake_gemini: FakeGeminiControl, redis_cache: RedisCache) -> None:
    async with _tts_app(gateway_settings(fake_gemini.url), redis_cache) as tts:
        signed_in = await tts.client.post("/api/v2/chat/tts", json={"text": "こんにちは"}, headers=await tts.bearer())
        # The switched-off feature answers the same to everyone, before credentials are looked at.
        anonymous = await tts.client.post("/api/v2/chat/tts", json={"text": "こんにちは"})
    for response in (signed_in, anonymous):
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "feature_disabled"
        assert error["message"] == "この機能は現在ご利用いただけません。"
    assert fake_gemini.requests() == []
