"""Text-to-speech: voices per character, cache first, a daily budget per caller, refunds on failure."""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from tests.support.fakes import FakeCache
from workplace_roleplay.domain.speech import SpeechService
from workplace_roleplay.errors import InvalidInput, ModelOverloaded, ModelUnavailable, SpeechBudgetExceeded

# 2027-01-15 23:00 JST: one hour before the budget resets.
LATE_EVENING = 1_800_000_000.0 - (1_800_000_000.0 + 9 * 3600) % 86400 + 23 * 3600


class RecordingSynthesizer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail = False

    async def close(self) -> None:
        return None

    async def synthesize(self, model: str, text: str, voice: str) -> tuple[bytes, str]:
        self.calls.append((model, text, voice))
        if self.fail:
            raise ModelOverloaded("tts busy", status=503)
        return f"RIFF{text}".encode(), "audio/wav"


def _service(synth: RecordingSynthesizer, cache: FakeCache, *, daily: int = 20) -> SpeechService:
    return SpeechService(
        synth,
        cache,
        ManualClock(now=LATE_EVENING),
        model="tts-model",
        voices={"default": "Kore", "taro": "Puck", "taro:angry": "Fenrir"},
        daily_chars=daily,
        max_chars=50,
        ttl_s=3600,
    )


def test_voice_per_character_and_emotion() -> None:
    service = _service(RecordingSynthesizer(), FakeCache())
    assert service.voice_for("Taro", "angry") == "Fenrir"
    assert service.voice_for("taro", "happy") == "Puck"
    assert service.voice_for("hanako") == "Kore"


async def test_second_request_is_served_from_the_cache_for_free() -> None:
    synth, cache = RecordingSynthesizer(), FakeCache()
    service = _service(synth, cache, daily=10)
    first = await service.speak("おはようございます", budget_key="user:u1", character="taro")
    second = await service.speak("おはようございます", budget_key="user:u1", character="taro")
    assert (first.cached, second.cached) == (False, True)
    assert second.audio == first.audio
    assert second.mime_type == "audio/wav"
    assert synth.calls == [("tts-model", "おはようございます", "Puck")]
    assert any(key.startswith("tts_cache:") for key in cache.data)


async def test_budget_is_per_caller_and_resets_at_midnight_tokyo() -> None:
    service = _service(RecordingSynthesizer(), FakeCache(), daily=10)
    await service.speak("一二三四五六七八", budget_key="user:u1")
    with pytest.raises(SpeechBudgetExceeded) as refused:
        await service.speak("九十十一", budget_key="user:u1")
    assert refused.value.retry_after == 3601  # until 00:00 JST, plus a second
    await service.speak("九十十一", budget_key="user:u2")  # another learner's budget


async def test_a_failed_synthesis_refunds_its_characters() -> None:
    synth = RecordingSynthesizer()
    service = _service(synth, FakeCache(), daily=10)
    synth.fail = True
    with pytest.raises(ModelOverloaded):
        await service.speak("一二三四五六七八", budget_key="user:u1")
    synth.fail = False
    await service.speak("一二三四五六七八", budget_key="user:u1")


async def test_invalid_text_is_refused_before_any_cost() -> None:
    synth = RecordingSynthesizer()
    service = _service(synth, FakeCache())
    for text in ("   ", "あ" * 51):
        with pytest.raises(InvalidInput):
            await service.speak(text, budget_key="user:u1")
    assert synth.calls == []


async def test_without_the_budget_counter_tts_is_refused_not_unbounded() -> None:
    cache = FakeCache()
    cache.down = True
    with pytest.raises(ModelUnavailable):
        await _service(RecordingSynthesizer(), cache).speak("こんにちは", budget_key="user:u1")
