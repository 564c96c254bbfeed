"""Text-to-speech with a per-user daily character budget and the ``tts_cache:{text_hash}`` cache.

The legacy app's TTS bill came from unbounded synthesis, so every character that reaches the model
is charged to a daily budget (Asia/Tokyo day) before the call, and refunded when the call fails.
Cache hits are free: the same line in the same voice is synthesized once per TTL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from workplace_roleplay import telemetry
from workplace_roleplay.errors import InvalidInput, ModelUnavailable, SpeechBudgetExceeded
from workplace_roleplay.ports.cache import Cache
from workplace_roleplay.ports.cache_keys import ratelimit_key
from workplace_roleplay.ports.clock import Clock
from workplace_roleplay.ports.speech import SpeechSynthesizer

log = logging.getLogger("workplace_roleplay.speech")

CACHE_PREFIX = "tts_cache:"
# ratelimit:{tts:<owner hash>}:<yyyymmdd> (docs/redis-keys.md): one learner's budget days share a slot.
BUDGET_SUBJECT = "tts"
JST = dt.timezone(dt.timedelta(hours=9), "JST")
_MIME_SEPARATOR = b"\n"


@dataclass(frozen=True, slots=True)
class Speech:
    audio: bytes
    mime_type: str
    voice: str
    cached: bool


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class SpeechService:
    """Voices per character, cache first, then the budget, then the synthesizer."""

    def __init__(
        self,
        synthesizer: SpeechSynthesizer,
        cache: Cache,
        clock: Clock,
        *,
        model: str,
        voices: Mapping[str, str],
        daily_chars: int,
        max_chars: int,
        ttl_s: int,
    ) -> None:
        self.synthesizer = synthesizer
        self.cache = cache
        self.clock = clock
        self.model = model
        self.voices = dict(voices)
        self.daily_chars = daily_chars
        self.max_chars = max_chars
        self.ttl_s = ttl_s

    def voice_for(self, character: str = "", emotion: str = "") -> str:
        """The voice of ``character:emotion``, else of ``character``, else the default."""
        character, emotion = character.strip().lower(), emotion.strip().lower()
        for key in (f"{character}:{emotion}", character, "default"):
            if key in self.voices:
                return self.voices[key]
        return next(iter(self.voices.values()), "Kore")

    async def speak(self, text: str, *, budget_key: str, character: str = "", emotion: str = "") -> Speech:
        text = unicodedata.normalize("NFKC", text).strip()
        if not text:
            raise InvalidInput("empty text")
        if len(text) > self.max_chars:
            raise InvalidInput(f"text longer than {self.max_chars} characters")
        voice = self.voice_for(character, emotion)
        key = CACHE_PREFIX + _hash(self.model, voice, text)
        stored = await self.cache.get(key)
        if stored is not None and _MIME_SEPARATOR in stored:
            telemetry.MODEL_CACHE_EVENTS.labels(cache="tts_cache", outcome="hit").inc()
            stored_mime, _, stored_audio = stored.partition(_MIME_SEPARATOR)
            return Speech(audio=stored_audio, mime_type=stored_mime.decode(), voice=voice, cached=True)
        telemetry.MODEL_CACHE_EVENTS.labels(cache="tts_cache", outcome="miss").inc()
        budget = await self._charge(budget_key, len(text))
        try:
            audio, mime = await self.synthesizer.synthesize(self.model, text, voice)
        except BaseException:
            await self.cache.append(budget, str(-len(text)).encode(), ttl=self._budget_ttl())
            raise
        telemetry.TTS_CHARACTERS.labels(model=self.model).inc(len(text))
        await self.cache.set(key, mime.encode() + _MIME_SEPARATOR + audio, ttl=self.ttl_s)
        return Speech(audio=audio, mime_type=mime, voice=voice, cached=False)

    def _today(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), JST)

    def _budget_ttl(self) -> int:
        now = self._today()
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), JST)
        return max(1, int((midnight - now).total_seconds()) + 1)

    async def _charge(self, budget_key: str, chars: int) -> str:
        """Reserve ``chars`` of today's budget (atomic append, then count what came before us)."""
        key = ratelimit_key(f"{BUDGET_SUBJECT}:{_hash(budget_key)[:32]}:{self._today():%Y%m%d}")
        ttl = self._budget_ttl()
        if chars > self.daily_chars:
            raise SpeechBudgetExceeded(ttl, "text longer than the whole daily budget")
        position = await self.cache.append(key, str(chars).encode(), ttl=ttl, max_items=100_000)
        if position is None:
            # Without the shared counter the budget cannot be enforced; refuse rather than risk the bill.
            raise ModelUnavailable("tts budget store unavailable")
        used = sum(int(item) for item in (await self.cache.read_list(key))[:position])
        if used > self.daily_chars:
            await self.cache.append(key, str(-chars).encode(), ttl=ttl, max_items=100_000)
            log.info("tts budget exhausted", extra={"tts_chars": chars})
            raise SpeechBudgetExceeded(ttl, "daily tts budget exhausted")
        return key
