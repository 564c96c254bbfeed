"""The simple-response mode (簡易応答モード): a deterministic, offline ``LanguageModel``.

It answers when no Gemini configuration is present (``make run`` offline), when ops force it, and as
the last fallback when every model is failing. Replies are short, polite Japanese built from the
request's ``hints`` (persona, situation, partner_type, topic, speaker...) and the learner's last line.
Every result says what it is: ``mode=SIMPLE``, ``model="simple"`` and a user-facing notice; it never
pretends to be the real model.

Hints it reads (all optional): ``persona`` or ``partner_name`` (who speaks), ``partner_type`` (boss,
senior, ...), ``situation`` and ``topic`` (ids such as ``lunch``/``work`` or free Japanese text),
``speaker`` and ``other_speaker`` (watch mode), ``last_learner_line`` (when not in ``messages``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncGenerator, Sequence
from enum import StrEnum

from workplace_roleplay import telemetry
from workplace_roleplay.adapters.simple_structured import LABELS, TranscriptView, build_instance
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

# Replies by what the learner's last line does; {name} is the counterpart, {topic} the subject at hand.
_REPLIES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(r"申し訳|すみません|すいません|ごめん|失礼しました"),
        (
            "ご報告ありがとうございます。まずは状況を一緒に整理しましょう。いつ頃わかったことですか。",
            "正直に伝えてくれて助かります。影響の範囲と、次に取る対応を教えてもらえますか。",
        ),
    ),
    (
        re.compile(r"ありがとう|助かりました|感謝"),
        (
            "どういたしまして。{topic}のことで、ほかにも気になる点はありますか。",
            "お役に立ててよかったです。このあとの進め方も確認しておきましょうか。",
        ),
    ),
    (
        re.compile(r"おはよう|こんにちは|こんばんは|お疲れ|おつかれ|はじめまして"),
        (
            "お疲れさまです。{name}です。{topic}のこと、少しお話ししてもいいですか。",
            "こんにちは。今日はどんな一日になりそうですか。",
        ),
    ),
    (
        re.compile(r"できません|難しい|厳しい|お断り|無理"),
        (
            "そうですか、事情はわかりました。代わりにできそうなことはありますか。",
            "正直に言ってくれてありがとうございます。いつ頃なら対応できそうですか。",
        ),
    ),
    (
        re.compile(r"報告|相談|ミス|遅れ|トラブル|問題"),
        (
            "共有してくれてありがとうございます。今わかっている事実から順に教えてください。",
            "なるほど。まず結論と、こちらで手伝えることを教えてもらえますか。",
        ),
    ),
    (
        re.compile(r"[?？]$|ですか$|ますか$|でしょうか$|かな$"),
        (
            "いい質問ですね。私としては、まず{topic}の目的を確認するのがよいと思います。どう思いますか。",
            "そうですね、状況によりますが、まずは関係する人に相談してみるのがよさそうです。",
        ),
    ),
)
_DEFAULT_REPLIES = (
    "なるほど、そういうことなんですね。もう少し詳しく聞かせてもらえますか。",
    "ありがとうございます。{topic}について、あなたはどう進めたいと考えていますか。",
    "そうなんですね。その時、どんなふうに感じましたか。",
)
_OPENINGS = (
    "お疲れさまです、{name}です。{topic}の件で、少しお時間よろしいですか。",
    "こんにちは、{name}です。{topic}について、話をしてもいいですか。",
)
_WATCH_LINES = (
    "{other}さん、{topic}のことで少し相談してもいいですか。",
    "なるほど、{other}さんはどう考えていますか。",
    "それなら、まず関係者に共有してから進めましょう。",
    "ありがとうございます。では、その方向で準備してみます。",
)
_ANALYSIS = "簡易応答モードのため、この発言の詳しい分析は行っていません。"
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


def reply_text(request: GenerationRequest) -> str:
    """The simple-response line for a text task."""
    hints = request.hints
    name = hints.get("persona") or hints.get("partner_name") or hints.get("speaker") or "相手"
    topic = hints.get("topic") or hints.get("situation") or "お仕事"
    topic = LABELS.get(topic, topic)
    topic = topic if len(topic) <= 30 else topic[:29] + "…"
    turn = len(request.messages)
    if request.task is ModelTask.TURN_ANALYSIS:
        return _ANALYSIS
    if request.task is ModelTask.WATCH_LINE:
        other = hints.get("other_speaker") or hints.get("partner_name") or "相手"
        return _WATCH_LINES[turn % len(_WATCH_LINES)].format(other=other, topic=topic)
    line = last_learner_line(request)
    if request.task is ModelTask.OPENING or not line:
        return _pick(_OPENINGS, name, topic).format(name=name, topic=topic)
    for pattern, options in _REPLIES:
        if pattern.search(line.rstrip("。. ")):
            return _pick(options, line, turn).format(name=name, topic=topic)
    reply = _pick(_DEFAULT_REPLIES, line, turn).format(name=name, topic=topic)
    if hints.get("partner_type") in ("boss", "上司", "senior", "先輩") and turn <= 2:
        reply = "うん、" + reply  # superiors speak a little less formally to a junior colleague
    return reply


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
