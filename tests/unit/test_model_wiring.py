"""``build_language_model``: Gemini behind the resilience layer, or the simple-response mode and why."""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.adapters.resilient_model import ResilientModel
from workplace_roleplay.adapters.simple_model import SimpleModel, SimpleReason
from workplace_roleplay.bootstrap import Resources, build_language_model, build_speech
from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.ports.model import ModelTask
from workplace_roleplay.settings import ChatSettings


def test_no_key_means_simple_mode_unconfigured() -> None:
    model = build_language_model(ChatSettings(GEMINI_API_KEY=None), FakeCache(), ManualClock())
    assert isinstance(model, SimpleModel)
    assert model.reason is SimpleReason.UNCONFIGURED


def test_the_ops_switch_forces_simple_mode_even_with_a_key() -> None:
    settings = ChatSettings(GEMINI_API_KEY="k", MODEL_FORCE_SIMPLE=True)
    model = build_language_model(settings, FakeCache(), ManualClock())
    assert isinstance(model, SimpleModel)
    assert model.reason is SimpleReason.FORCED


async def test_a_key_builds_the_gateway_with_routing_overrides() -> None:
    settings = ChatSettings(GEMINI_API_KEY="k", MODEL_TASK_OVERRIDES={"summary": "flash"})
    model = build_language_model(settings, FakeCache(), ManualClock())
    assert isinstance(model, ResilientModel)
    try:
        assert model.router.route(ModelTask.SUMMARY).primary == settings.MODEL_FLASH
        assert model.router.route(ModelTask.QUIZ).primary == settings.MODEL_PRO
    finally:
        await model.close()


def test_a_misspelled_task_override_fails_at_startup() -> None:
    settings = ChatSettings(GEMINI_API_KEY="k", MODEL_TASK_OVERRIDES={"sumary": "flash"})
    with pytest.raises(ConfigurationError, match="sumary"):
        build_language_model(settings, FakeCache(), ManualClock())


def test_tts_is_built_only_when_enabled_and_a_model_is_configured() -> None:
    assert build_speech(ChatSettings(GEMINI_API_KEY="k"), FakeCache(), ManualClock()) is None
    assert build_speech(ChatSettings(TTS_ENABLED=True, GEMINI_API_KEY=None), FakeCache(), ManualClock()) is None
    speech = build_speech(ChatSettings(TTS_ENABLED=True, GEMINI_API_KEY="k"), FakeCache(), ManualClock())
    assert speech is not None
    assert speech.voice_for("taro") == "Puck"


def test_hand_built_resources_default_to_the_simple_mode() -> None:
    resources = Resources(settings=ChatSettings(), store=FakeStore(), cache=FakeCache(), clock=ManualClock())
    assert isinstance(resources.model, SimpleModel)
    assert resources.speech is None
