"""The real Gemini adapter and resilience layer against the fake Gemini server over HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import pytest
from prometheus_client import REGISTRY
from pydantic import BaseModel, Field

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.model_gateway import FLASH, PRO, collect, gateway_settings, open_gateway, turn
from workplace_roleplay.errors import ModelOverloaded
from workplace_roleplay.ports.model import GenerationMode, ModelTask, TextDelta

pytestmark = pytest.mark.integration

REPLY = "承知しました。では、結論からお伝えしますね。"


class Verdict(BaseModel):
    passed: bool
    evidence: str = Field(max_length=200)
    score: int = Field(ge=1, le=5)


async def test_stream_arrives_incrementally(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=120)
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        stream = model.stream(turn())
        first = await anext(stream)
        # The first delta is here while the server is still sending: the stream is not buffered.
        assert isinstance(first, TextDelta)
        assert first.text == REPLY[:4]
        assert fake_gemini.stats() == {"disconnects": 0, "completed": 0, "in_flight": 1}
        deltas, completion = await collect(stream)
    assert first.text + "".join(deltas) == REPLY == completion.text
    assert completion.model == FLASH
    assert completion.mode is GenerationMode.MODEL
    assert completion.usage.output_tokens > 0
    sent = fake_gemini.requests(method="streamGenerateContent")
    assert len(sent) == 1
    assert sent[0]["body"]["contents"][-1]["parts"][0]["text"] == "お疲れさまです。今少しよろしいですか。"
    assert sent[0]["body"]["systemInstruction"]["parts"][0]["text"] == "あなたは職場の先輩です。"


async def test_429_then_success_recovers_after_retry_after(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.configure(text=REPLY)
    fake_gemini.script(FLASH, {"kind": "status", "status": 429, "retry_after": 0.3})
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        _, completion = await collect(model.stream(turn()))
    assert completion.text == REPLY
    assert completion.model == FLASH
    sent = fake_gemini.requests(method="streamGenerateContent")
    assert [r["model"] for r in sent] == [FLASH, FLASH]
    assert sent[1]["at"] - sent[0]["at"] >= 0.29, "the retry must wait for Retry-After"


async def test_retry_info_in_the_error_body_is_honoured_too(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(FLASH, {"kind": "status", "status": 429, "retry_delay": 0.3})
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        completion = await model.generate(turn())
    assert completion.model == FLASH
    sent = fake_gemini.requests()
    assert len(sent) == 2
    assert sent[1]["at"] - sent[0]["at"] >= 0.29


async def test_retry_after_longer_than_we_wait_moves_to_the_other_model(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(FLASH, {"kind": "status", "status": 429, "retry_after": 30})
    async with open_gateway(gateway_settings(fake_gemini.url, MODEL_RETRY_MAX_DELAY_S=1.0)) as model:
        started = time.monotonic()
        _, completion = await collect(model.stream(turn()))
    assert time.monotonic() - started < 2
    assert completion.model == PRO
    assert [r["model"] for r in fake_gemini.requests()] == [FLASH, PRO]


async def test_persistent_503_on_pro_falls_back_to_flash(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(PRO, {"kind": "status", "status": 503, "times": -1})
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        result = await model.generate_structured(turn(task=ModelTask.FEEDBACK_REPORT), Verdict)
        _, streamed = await collect(model.stream(turn(task=ModelTask.SUMMARY)))
    assert result.completion.model == FLASH
    assert result.completion.mode is GenerationMode.MODEL
    assert 1 <= result.value.score <= 5
    assert streamed.model == FLASH
    assert [r["model"] for r in fake_gemini.requests()] == [PRO, PRO, FLASH, PRO, PRO, FLASH]


async def test_both_models_failing_ends_in_simple_mode_with_notice(fake_gemini: FakeGeminiControl) -> None:
    for name in (FLASH, PRO):
        fake_gemini.script(name, {"kind": "status", "status": 503, "times": -1})
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        deltas, completion = await collect(model.stream(turn("すみません、資料の提出が遅れてしまいました。")))
        report = await model.generate_structured(turn(task=ModelTask.FEEDBACK_REPORT), Verdict)
    assert completion.mode is GenerationMode.SIMPLE
    assert completion.model == "simple"
    assert "現在AIが混み合っているため、簡易応答モードで動作しています" in completion.notice
    assert deltas
    assert "".join(deltas) == completion.text
    assert report.completion.mode is GenerationMode.SIMPLE
    assert report.value.evidence == "お疲れさまです。今少しよろしいですか。"  # quoted, not invented
    assert len(fake_gemini.requests()) == 8  # two attempts on each model, for each call


async def test_500_mid_stream_yields_partial_answer_and_error(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.configure(text=REPLY, chunk_chars=4)
    fake_gemini.script(FLASH, {"kind": "break", "after_chunks": 2})
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        deltas, completion = await collect(model.stream(turn()))
    assert deltas == [REPLY[:4], REPLY[4:8]]
    assert completion.partial is True
    assert completion.text == REPLY[:8]
    assert completion.error_code == ModelOverloaded.code
    assert completion.mode is GenerationMode.MODEL
    assert len(fake_gemini.requests()) == 1, "text was already sent: a retry would repeat it"


async def test_hung_upstream_times_out_within_budget(fake_gemini: FakeGeminiControl) -> None:
    for name in (FLASH, PRO):
        fake_gemini.script(name, {"kind": "hang", "times": -1})
    # Two attempts per model are allowed, but a timeout is not retried on the same model.
    settings = gateway_settings(fake_gemini.url, MODEL_FIRST_TOKEN_TIMEOUT_S=0.4, MODEL_RETRY_ATTEMPTS=2)
    async with open_gateway(settings) as model:
        started = time.monotonic()
        _, completion = await collect(model.stream(turn()))
        elapsed = time.monotonic() - started
    assert completion.mode is GenerationMode.SIMPLE
    # One first-token budget per model (two models), plus a little scheduling slack.
    assert 0.8 <= elapsed < 0.8 + 0.5
    assert fake_gemini.wait_for("disconnects", 2)["disconnects"] == 2, "timed-out calls must be dropped"
    assert [r["model"] for r in fake_gemini.requests()] == [FLASH, PRO]


async def test_cancelling_the_consumer_closes_the_upstream_connection(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.configure(text=REPLY * 3, chunk_chars=2, chunk_delay_ms=100)
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        first_delta = asyncio.Event()

        async def consume() -> None:
            async for event in model.stream(turn()):
                if isinstance(event, TextDelta):
                    first_delta.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first_delta.wait(), 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stats = await asyncio.to_thread(fake_gemini.wait_for, "disconnects", 1)
        assert stats == {"disconnects": 1, "completed": 0, "in_flight": 0}
        # The cancelled call proved nothing about the model: its breaker stays closed.
        assert model.breaker(FLASH).state.value == "closed"


async def test_closing_the_stream_early_closes_the_upstream_connection(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.configure(text=REPLY * 3, chunk_chars=2, chunk_delay_ms=100)
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        stream = model.stream(turn())
        assert isinstance(await anext(stream), TextDelta)
        await stream.aclose()
        stats = await asyncio.to_thread(fake_gemini.wait_for, "disconnects", 1)
    assert stats["disconnects"] == 1
    assert stats["completed"] == 0


async def test_structured_generation_sends_the_schema_and_validates(fake_gemini: FakeGeminiControl) -> None:
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        result = await model.generate_structured(turn(task=ModelTask.TURN_ANALYSIS), Verdict)
    assert isinstance(result.value, Verdict)
    assert result.completion.model == FLASH
    config = fake_gemini.requests()[0]["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseJsonSchema"]["properties"]) == {"passed", "evidence", "score"}


async def test_invalid_json_from_the_model_falls_back(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(FLASH, {"kind": "ok", "text": "not json"})
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        result = await model.generate_structured(turn(task=ModelTask.TURN_ANALYSIS), Verdict)
    assert result.completion.model == PRO
    assert [r["model"] for r in fake_gemini.requests()] == [FLASH, PRO]


async def test_both_api_versions_are_served(fake_gemini: FakeGeminiControl) -> None:
    for version in ("v1", "v1beta"):
        async with open_gateway(gateway_settings(fake_gemini.url, GEMINI_API_VERSION=version)) as model:
            completion = await model.generate(turn())
        assert completion.mode is GenerationMode.MODEL
    assert [r["version"] for r in fake_gemini.requests()] == ["v1", "v1beta"]


async def test_metrics_record_latency_ttft_tokens_errors_and_fallbacks(fake_gemini: FakeGeminiControl) -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "ttft": sample("model_time_to_first_token_seconds_count", model=PRO),
        "latency": sample("model_call_duration_seconds_count", model=PRO, call="stream"),
        "tokens": sample("model_tokens_total", model=PRO, direction="output"),
        "errors": sample("model_errors_total", model=FLASH, code="model_overloaded"),
        "fallback": sample("model_fallbacks_total", task="conversation_turn", kind="other_model"),
    }
    fake_gemini.script(FLASH, {"kind": "status", "status": 503, "times": 2})
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        await collect(model.stream(turn()))
    assert sample("model_time_to_first_token_seconds_count", model=PRO) == before["ttft"] + 1
    assert sample("model_call_duration_seconds_count", model=PRO, call="stream") == before["latency"] + 1
    assert sample("model_tokens_total", model=PRO, direction="output") > before["tokens"]
    assert sample("model_errors_total", model=FLASH, code="model_overloaded") == before["errors"] + 2
    assert sample("model_fallbacks_total", task="conversation_turn", kind="other_model") == before["fallback"] + 1


async def test_flash_conversation_lines_skip_thinking_but_reports_do_not(fake_gemini: FakeGeminiControl) -> None:
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        await collect(model.stream(turn()))
        await model.generate_structured(turn(task=ModelTask.FEEDBACK_REPORT), Verdict)
    line, report = (r["body"].get("generationConfig", {}) for r in fake_gemini.requests())
    assert line["thinkingConfig"] == {"thinking_budget": 0}
    assert "thinkingConfig" not in report


async def test_the_fake_counts_tokens_like_the_real_api(fake_gemini: FakeGeminiControl) -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=fake_gemini.url))
    try:
        counted = await client.aio.models.count_tokens(model=FLASH, contents="お疲れさまです。")
    finally:
        await client.aio.aclose()
    assert counted.total_tokens == 4
    assert fake_gemini.requests()[0]["method"] == "countTokens"


async def test_a_stream_stalling_after_its_first_delta_ends_partial_at_the_total_budget(
    fake_gemini: FakeGeminiControl,
) -> None:
    fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=2000)
    settings = gateway_settings(fake_gemini.url, MODEL_FIRST_TOKEN_TIMEOUT_S=0.5, MODEL_TOTAL_TIMEOUT_S=0.8)
    async with open_gateway(settings) as model:
        started = time.monotonic()
        deltas, completion = await collect(model.stream(turn()))
        elapsed = time.monotonic() - started
    assert deltas == [REPLY[:4]]
    assert completion.partial is True
    assert completion.error_code == "model_timeout"
    assert 0.8 <= elapsed < 1.3
    assert fake_gemini.wait_for("disconnects", 1)["disconnects"] == 1


class Check(BaseModel):
    id: str
    passed: bool


class Report(BaseModel):
    checks: list[Check] = Field(min_length=2)
    level: Literal["basic", "advanced"]
    advice: str | None = None


async def test_nested_schemas_reach_the_model_and_come_back_validated(fake_gemini: FakeGeminiControl) -> None:
    async with open_gateway(gateway_settings(fake_gemini.url)) as model:
        result = await model.generate_structured(turn(task=ModelTask.FEEDBACK_REPORT), Report)
    assert result.completion.model == PRO  # no fallback: the fake's answer validated
    assert len(result.value.checks) == 2
    assert "$defs" in fake_gemini.requests()[0]["body"]["generationConfig"]["responseJsonSchema"]
