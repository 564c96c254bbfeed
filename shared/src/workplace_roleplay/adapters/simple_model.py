"""The simple-response mode (簡易応答モード): a deterministic, offline ``LanguageModel``.

It answers when no Gemini configuration is present (``make run`` offline), when ops force it, and as
the last fallback when every model is failing. Replies are short, polite Japanese built from the
request's ``hints`` (persona, situation, partner_type, topic, speaker...) and the learner's last line.
Every result says what it is: ``mode=SIMPLE``, ``model="simple"`` and a user-facing notice; it never
pretends to be the real model.

Hints it reads (all optional): ``scenario_id`` (a catalog scenario: its own opening, follow-ups and
reactions, ``domain/scenario/simple_reply.py``), ``partner_type`` (boss, senior, ...: the voice),
``situation`` and ``topic`` (chat codes such as ``morning``/``work``, or free Japanese text),
``other_speaker`` (watch mode), ``last_learner_line`` (when not in ``messages``). Phrases live in
``simple_phrases.py``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from workplace_roleplay import telemetry
from workplace_roleplay.adapters.simple_phrases import (
    ANALYSIS,
    DEFAULT_TOPIC,
    GREETING_REPLIES,
    GREETINGS,
    OPENINGS,
    REPLIES,
    TIME_OF_SITUATION,
    TOPIC_PHRASES,
    VOICE_OF_PARTNER,
    WATCH_LINES,
    Kind,
    TimeOfDay,
    Voice,
)
from workplace_roleplay.adapters.simple_structured import TranscriptView, build_instance
from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog, load_catalog
from workplace_roleplay.domain.scenario.simple_reply import scenario_reply
from workplace_roleplay.errors import ScenarioNotFound
from workplace_roleplay.ports.model import (
    Completion,
    GenerationMode,
    GenerationRequest,
    M,
    ModelTask,
    StreamEvent,
    Structured,
    TextDelta,
)

SIMPLE_MODEL_NAME = "simple"


class SimpleReason(StrEnum):
    UNCONFIGURED = "unconfigured"  # no Gemini key or Vertex configuration
    FORCED = "forced"  # MODEL_FORCE_SIMPLE (ops switch)
    OVERLOADED = "overloaded"  # every model failed or its breaker is open
    UNAVAILABLE = "unavailable"  # the models refused us (rejected credential or request)


NOTICES = {
    SimpleReason.UNCONFIGURED: "AIに接続していないため、簡易応答モードで動作しています。返答は定型文です。",
    SimpleReason.FORCED: "現在AIを一時停止しているため、簡易応答モードで動作しています。返答は定型文です。",
    SimpleReason.OVERLOADED: (
        "現在AIが混み合っているため、簡易応答モードで動作しています。しばらくすると通常の応答に戻ります。"
    ),
    SimpleReason.UNAVAILABLE: "現在AIに接続できないため、簡易応答モードで動作しています。返答は定型文です。",
}

_KINDS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("apology", re.compile(r"申し訳|すみません|すいません|ごめん|失礼しました")),
    ("thanks", re.compile(r"ありがとう|助かりました|感謝")),
    ("greeting", re.compile(r"おはよう|こんにちは|こんばんは|お疲れ|おつかれ|はじめまして")),
    ("refusal", re.compile(r"できません|難しい|厳しい|お断り|無理")),
    ("report", re.compile(r"報告|相談|ミス|遅れ|トラブル|問題")),
    ("question", re.compile(r"[?？]$|ですか$|ますか$|でしょうか$|かな$")),
)
_SENTENCE = re.compile(r"(?<=[。！？!?、])")


def _pick(options: Sequence[str], *keys: object) -> str:
    """A deterministic choice: the same conversation state always gets the same reply."""
    digest = hashlib.sha256("\x1f".join(map(str, keys)).encode()).digest()
    return options[digest[0] % len(options)]


def last_learner_line(request: GenerationRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user" and message.text.strip():
            return message.text.strip()
    return request.hints.get("last_learner_line", "").strip()


def learner_lines(request: GenerationRequest) -> list[str]:
    lines = [m.text.strip() for m in request.messages if m.role == "user" and m.text.strip()]
    if not lines and request.hints.get("last_learner_line", "").strip():
        lines.append(request.hints["last_learner_line"].strip())
    return lines


@dataclass(frozen=True, slots=True)
class Scene:
    """What the chat and watch phrases need from the hints: voice, time of day and topic phrase."""

    voice: Voice
    time: TimeOfDay
    topic: str

    @classmethod
    def of(cls, hints: Mapping[str, str]) -> Scene:
        voice = VOICE_OF_PARTNER.get(hints.get("partner_type", ""), "peer")
        situation = hints.get("situation", "")
        time = TIME_OF_SITUATION.get(situation, "day")
        topic = hints.get("topic", "")
        if topic in TOPIC_PHRASES:
            topic = TOPIC_PHRASES[topic]
        elif not topic and situation and situation not in TIME_OF_SITUATION:
            topic = situation  # free text from a caller (e.g. 納期の相談)
        topic = re.sub(r"(のこと|について|の件)$", "", " ".join(topic.split())) or DEFAULT_TOPIC
        topic = topic if len(topic) <= 30 else topic[:29] + "…"
        return cls(voice, time, topic)

    def fill(self, template: str, **extra: str) -> str:
        return template.format(greeting=GREETINGS[self.time][self.voice], topic=self.topic, **extra)


def _bare_name(name: str) -> str:
    """A name without a trailing さん, so templates that add さん never produce さんさん."""
    return name[:-2] if name.endswith("さん") and len(name) > 2 else name


def _scenario_reply(request: GenerationRequest) -> str | None:
    """The scenario's own line when the hints name a known scenario (``scenario_id``)."""
    scenario_id = request.hints.get("scenario_id", "")
    if not scenario_id:
        return None
    catalog = _scenario_catalog()
    try:
        scenario = catalog.get(scenario_id)
    except ScenarioNotFound:
        return None
    return scenario_reply(scenario, catalog.roster, learner_lines(request))


@cache
def _scenario_catalog() -> ScenarioCatalog:
    return load_catalog()


def _other_watch_speaker(hints: Mapping[str, str]) -> str:
    """The watch partner of this line's speaker (``watch_speakers`` lists both), else the hinted partner."""
    speakers = [n for n in hints.get("watch_speakers", "").split(",") if n and n != hints.get("speaker")]
    return hints.get("other_speaker") or (speakers[0] if speakers else "") or hints.get("partner_name", "")


def reply_text(request: GenerationRequest) -> str:
    """The simple-response line for a text task."""
    if request.task is ModelTask.TURN_ANALYSIS:
        return ANALYSIS
    scene = Scene.of(request.hints)
    turn = len(request.messages)
    watching = request.hints.get("mode") == "watch" and "last_learner_line" not in request.hints
    if request.task is ModelTask.WATCH_LINE or watching:
        other = _bare_name(_other_watch_speaker(request.hints) or "相手の方")
        # Count the dialogue's lines (every one names its speaker), not the rendered messages: the opening
        # instruction a speaker's request may start with would make two successive lines pick the same phrase.
        spoken = sum(1 for m in request.messages if m.speaker)
        return scene.fill(WATCH_LINES[spoken % len(WATCH_LINES)], other=other)
    scripted = _scenario_reply(request)
    if scripted:
        return scripted
    line = last_learner_line(request)
    if request.task is ModelTask.OPENING or not line:
        return scene.fill(_pick(OPENINGS[scene.voice], scene.voice, scene.topic))
    for kind, pattern in _KINDS:
        if pattern.search(line.rstrip("。. ")):
            if kind == "greeting":
                return GREETING_REPLIES[scene.time][scene.voice]
            return scene.fill(_pick(REPLIES[scene.voice][kind], line, turn))
    return scene.fill(_pick(REPLIES[scene.voice]["default"], line, turn))


def every_reply(hints: Mapping[str, str]) -> list[str]:
    """Every line the chat and watch templates can produce for these hints (for the known-bad-pattern test)."""
    scene = Scene.of(hints)
    other = _bare_name(hints.get("other_speaker") or hints.get("partner_name") or "相手の方")
    lines = [scene.fill(t) for t in OPENINGS[scene.voice]]
    lines += [scene.fill(t) for kind in REPLIES[scene.voice].values() for t in kind]
    lines.append(GREETING_REPLIES[scene.time][scene.voice])
    lines += [scene.fill(t, other=other) for t in WATCH_LINES]
    return lines


class SimpleModel:
    """Deterministic offline answers for every task; each result carries ``mode=SIMPLE``."""

    backend = "simple"

    def __init__(self, reason: SimpleReason = SimpleReason.UNCONFIGURED) -> None:
        self.reason = reason

    def _completion(self, request: GenerationRequest, text: str, reason: SimpleReason | None) -> Completion:
        reason = reason or self.reason
        telemetry.MODEL_SIMPLE_RESPONSES.labels(task=request.task.value, reason=reason.value).inc()
        return Completion(text=text, model=SIMPLE_MODEL_NAME, mode=GenerationMode.SIMPLE, notice=NOTICES[reason])

    async def stream(
        self, request: GenerationRequest, *, reason: SimpleReason | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        text = reply_text(request)
        for piece in (p for p in _SENTENCE.split(text) if p):
            yield TextDelta(piece)
        yield self._completion(request, text, reason)

    async def generate(self, request: GenerationRequest, *, reason: SimpleReason | None = None) -> Completion:
        return self._completion(request, reply_text(request), reason)

    async def generate_structured(
        self, request: GenerationRequest, schema: type[M], *, reason: SimpleReason | None = None
    ) -> Structured[M]:
        view = TranscriptView.of(request.task, request.messages, request.hints)
        value = build_instance(schema, view)
        return Structured(value=value, completion=self._completion(request, value.model_dump_json(), reason))

    async def embed(self, texts: Sequence[str], *, task: str) -> list[list[float]] | None:
        """No embeddings offline: callers use their lexical score."""
        return None

    async def close(self) -> None:
        return None
