"""Standby credential on 401/403 and the per-model circuit breaker, through the fake Gemini server."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import REGISTRY

from tests.support.clock import ManualClock
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.model_gateway import FLASH, PRO, collect, gateway_settings, open_gateway, turn
from workplace_roleplay.adapters.breaker import BreakerState
from workplace_roleplay.ports.model import GenerationMode

pytestmark = pytest.mark.integration


def _security_events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "security_event", None) == "model_credential_rejected"]


async def test_403_switches_to_the_standby_key_once_and_logs_it(
    fake_gemini: FakeGeminiControl, caplog: pytest.LogCaptureFixture
) -> None:
    fake_gemini.script("key:primary-key", {"kind": "status", "status": 403, "times": -1})
    settings = gateway_settings(fake_gemini.url, GEMINI_API_KEY_FALLBACK="standby-key")
    caplog.set_level(logging.INFO, logger="workplace_roleplay.model")
    async with open_gateway(settings) as model:
        _, first = await collect(model.stream(turn()))
        _, second = await collect(model.stream(turn()))
    assert first.mode is GenerationMode.MODEL
    assert second.mode is GenerationMode.MODEL
    assert [r["api_key"] for r in fake_gemini.requests()] == ["primary-key", "standby-key", "standby-key"]
    events = _security_events(caplog)
    assert len(events) == 1
    assert events[0].levelno >= logging.ERROR
    assert events[0].__dict__["credential_from"] == "primary"
    assert events[0].__dict__["credential_to"] == "standby"
    # The key itself never reaches the logs.
    assert all("primary-key" not in json.dumps(r.__dict__, default=str) for r in caplog.records)


async def test_a_rejected_standby_key_is_not_rotated_further(
    fake_gemini: FakeGeminiControl, caplog: pytest.LogCaptureFixture
) -> None:
    for key in ("primary-key", "standby-key"):
        fake_gemini.script(f"key:{key}", {"kind": "status", "status": 403, "times": -1})
    settings = gateway_settings(fake_gemini.url, GEMINI_API_KEY_FALLBACK="standby-key")
    async with open_gateway(settings) as model:
        _, completion = await collect(model.stream(turn()))
    assert completion.mode is GenerationMode.SIMPLE
    assert "現在AIに接続できないため" in completion.notice  # not "busy": waiting will not help
    keys = [r["api_key"] for r in fake_gemini.requests()]
    assert keys == ["primary-key", "standby-key", "standby-key"]  # standby on Flash, then on Pro
    assert len(_security_events(caplog)) == 3


async def test_quota_errors_never_switch_the_key(fake_gemini: FakeGeminiControl) -> None:
    for name in (FLASH, PRO):
        fake_gemini.script(name, {"kind": "status", "status": 429, "times": -1})
    settings = gateway_settings(fake_gemini.url, GEMINI_API_KEY_FALLBACK="standby-key")
    async with open_gateway(settings) as model:
        _, completion = await collect(model.stream(turn()))
    assert completion.mode is GenerationMode.SIMPLE
    assert {r["api_key"] for r in fake_gemini.requests()} == {"primary-key"}


async def test_breaker_opens_then_half_opens_after_the_cooldown(fake_gemini: FakeGeminiControl) -> None:
    for name in (FLASH, PRO):
        fake_gemini.script(name, {"kind": "status", "status": 503, "times": -1})
    clock = ManualClock()
    settings = gateway_settings(
        fake_gemini.url, MODEL_RETRY_ATTEMPTS=1, MODEL_BREAKER_FAILURES=2, MODEL_BREAKER_COOLDOWN_S=30
    )
    async with open_gateway(settings, clock=clock) as model:
        for _ in range(2):
            await model.generate(turn())
        assert model.breaker(FLASH).state is BreakerState.OPEN
        assert model.breaker(PRO).state is BreakerState.OPEN
        assert REGISTRY.get_sample_value("model_breaker_state", {"model": FLASH}) == 2
        calls = len(fake_gemini.requests())
        assert calls == 4

        # Open: nothing reaches the upstream, the learner still gets an answer.
        completion = await model.generate(turn())
        assert completion.mode is GenerationMode.SIMPLE
        assert len(fake_gemini.requests()) == calls

        clock.advance(30)
        assert model.breaker(FLASH).state is BreakerState.HALF_OPEN
        fake_gemini.reset()  # the model recovered
        completion = await model.generate(turn())
        assert completion.mode is GenerationMode.MODEL
        assert completion.model == FLASH
        assert [r["model"] for r in fake_gemini.requests()] == [FLASH]  # exactly one probe
        assert model.breaker(FLASH).state is BreakerState.CLOSED
        assert REGISTRY.get_sample_value("model_breaker_state", {"model": FLASH}) == 0


async def test_a_failed_probe_reopens_the_breaker(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(FLASH, {"kind": "status", "status": 503, "times": -1})
    clock = ManualClock()
    settings = gateway_settings(
        fake_gemini.url, MODEL_RETRY_ATTEMPTS=1, MODEL_BREAKER_FAILURES=1, MODEL_BREAKER_COOLDOWN_S=10
    )
    async with open_gateway(settings, clock=clock) as model:
        await model.generate(turn())
        assert model.breaker(FLASH).state is BreakerState.OPEN
        clock.advance(10)
        completion = await model.generate(turn())  # the probe fails, Pro answers
        assert completion.model == PRO
        assert model.breaker(FLASH).state is BreakerState.OPEN
        assert [r["model"] for r in fake_gemini.requests()] == [FLASH, PRO, FLASH, PRO]
