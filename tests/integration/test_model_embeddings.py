"""Embeddings through the real gateway and the fake Gemini server: vectors, outages, breaker, simple mode."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.clock import ManualClock
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.fakes import FakeCache
from tests.support.model_gateway import gateway_settings, open_gateway
from tools.fake_gemini import fake_embedding
from workplace_roleplay.adapters.breaker import BreakerState
from workplace_roleplay.adapters.gemini import GeminiBackend
from workplace_roleplay.adapters.simple_model import SimpleModel
from workplace_roleplay.bootstrap import build_language_model
from workplace_roleplay.ports.model import EMBED_DOCUMENT, EMBED_QUERY
from workplace_roleplay.settings import ChatSettings

pytestmark = pytest.mark.integration

EMBEDDER = "embedder-test"


async def test_vectors_come_back_in_order_with_the_task_and_size_sent(fake_gemini: FakeGeminiControl) -> None:
    settings = gateway_settings(fake_gemini.url, MODEL_EMBEDDING=EMBEDDER, MODEL_EMBEDDING_DIMENSIONS=32)
    texts = ["学習者はキャンプが好き", "学習者は会議で緊張する", "来週の資料"]
    async with open_gateway(settings) as model:
        vectors = await model.embed(texts, task=EMBED_DOCUMENT)
        query = await model.embed(["週末はキャンプ"], task=EMBED_QUERY)
    assert vectors == [fake_embedding(t, 32) for t in texts]
    assert query == [fake_embedding("週末はキャンプ", 32)]
    sent = fake_gemini.requests()
    assert [(r["model"], r["method"]) for r in sent] == [(EMBEDDER, "batchEmbedContents")] * 2
    first = sent[0]["body"]["requests"]
    assert [r["content"]["parts"][0]["text"] for r in first] == texts
    assert {r["taskType"] for r in first} == {EMBED_DOCUMENT}
    assert {r["outputDimensionality"] for r in first} == {32}
    assert sent[1]["body"]["requests"][0]["taskType"] == EMBED_QUERY


async def test_more_texts_than_one_batch_take_several_requests(fake_gemini: FakeGeminiControl) -> None:
    settings = gateway_settings(fake_gemini.url, MODEL_EMBEDDING=EMBEDDER, MODEL_EMBEDDING_DIMENSIONS=16)
    texts = [f"事実{i}" for i in range(130)]
    async with open_gateway(settings) as model:
        vectors = await model.embed(texts, task=EMBED_DOCUMENT)
    assert vectors == [fake_embedding(t, 16) for t in texts]
    assert [len(r["body"]["requests"]) for r in fake_gemini.requests()] == [100, 30]


@pytest.mark.parametrize("failure", [{"kind": "status", "status": 503}, {"kind": "status", "status": 400}])
async def test_an_outage_or_refusal_answers_none_not_an_error(
    fake_gemini: FakeGeminiControl, failure: dict[str, object]
) -> None:
    fake_gemini.script(EMBEDDER, failure)
    async with open_gateway(gateway_settings(fake_gemini.url, MODEL_EMBEDDING=EMBEDDER)) as model:
        assert await model.embed(["こんにちは"], task=EMBED_QUERY) is None
        # One attempt only (no retry), and the next call works again.
        assert len(fake_gemini.requests()) == 1
        assert await model.embed(["こんにちは"], task=EMBED_QUERY) == [fake_embedding("こんにちは", 768)]


async def test_a_hung_embedding_call_gives_up_within_its_timeout(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(EMBEDDER, {"kind": "hang"})
    settings = gateway_settings(fake_gemini.url, MODEL_EMBEDDING=EMBEDDER, MODEL_EMBEDDING_TIMEOUT_S=0.3)
    async with open_gateway(settings) as model:
        started = asyncio.get_running_loop().time()
        assert await model.embed(["こんにちは"], task=EMBED_QUERY) is None
        assert asyncio.get_running_loop().time() - started < 2.0
    assert fake_gemini.wait_for("disconnects", 1)["disconnects"] == 1


async def test_the_embedding_breaker_opens_and_stops_calling(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(EMBEDDER, {"kind": "status", "status": 503, "times": -1})
    clock = ManualClock()
    settings = gateway_settings(
        fake_gemini.url, MODEL_EMBEDDING=EMBEDDER, MODEL_BREAKER_FAILURES=2, MODEL_BREAKER_COOLDOWN_S=30
    )
    async with open_gateway(settings, clock=clock) as model:
        for _ in range(3):
            assert await model.embed(["こんにちは"], task=EMBED_QUERY) is None
        assert model.breaker(EMBEDDER).state is BreakerState.OPEN
        assert len(fake_gemini.requests()) == 2, "an open breaker sends nothing upstream"
        clock.advance(30)
        fake_gemini.reset()
        assert await model.embed(["こんにちは"], task=EMBED_QUERY) is not None
        assert model.breaker(EMBEDDER).state is BreakerState.CLOSED


async def test_no_embedding_model_and_simple_mode_answer_none(fake_gemini: FakeGeminiControl) -> None:
    async with open_gateway(gateway_settings(fake_gemini.url, MODEL_EMBEDDING="")) as model:
        assert await model.embed(["こんにちは"], task=EMBED_QUERY) is None
    simple = build_language_model(ChatSettings(GEMINI_API_KEY=None), FakeCache(), ManualClock())
    assert isinstance(simple, SimpleModel)
    assert await simple.embed(["こんにちは"], task=EMBED_QUERY) is None
    assert fake_gemini.requests() == []


async def test_the_vertex_wire_embedcontent_and_batch(fake_gemini: FakeGeminiControl) -> None:
    """Vertex mode speaks ``:embedContent`` for one text and ``:batchEmbedContents`` for several."""
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    settings = gateway_settings(fake_gemini.url, MODEL_EMBEDDING="gemini-embedding-001")
    # A static token stands in for the runtime service account (no metadata server here).
    client = genai.Client(
        vertexai=True,
        project="demo",
        location="asia-northeast1",
        credentials=Credentials("test-token"),  # type: ignore[no-untyped-call]
        http_options=types.HttpOptions(base_url=fake_gemini.url, retry_options=types.HttpRetryOptions(attempts=1)),
    )
    backend = GeminiBackend([client], settings)
    try:
        one = await backend.embed("gemini-embedding-001", ["一つ"], task=EMBED_QUERY, dimensions=24, timeout_s=5)
        two = await backend.embed(
            "gemini-embedding-001", ["一つ", "二つ"], task=EMBED_DOCUMENT, dimensions=24, timeout_s=5
        )
    finally:
        await backend.close()
    assert one == [fake_embedding("一つ", 24)]
    assert two == [fake_embedding("一つ", 24), fake_embedding("二つ", 24)]
    sent = fake_gemini.requests()
    assert [r["method"] for r in sent] == ["embedContent", "batchEmbedContents"]
    assert sent[0]["body"]["embedContentConfig"]["taskType"] == EMBED_QUERY
