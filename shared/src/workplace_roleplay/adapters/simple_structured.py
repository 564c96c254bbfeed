"""Valid instances of any pydantic schema, filled from the transcript, for the simple-response mode.

Field names steer the content (``summary`` gets a summary of the transcript, ``quote``/``evidence`` a
learner line, ``simplified`` is True, ``score`` sits mid-range, quiz questions come from the learner's
own lines); types and constraints (ranges, lengths, literals, enums, nested models, lists) make the
result validate. Nothing here pretends to be an analysis: texts say they are simplified.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import annotated_types as at
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from workplace_roleplay.errors import ModelRejected
from workplace_roleplay.ports.model import ChatMessage, ModelTask

M = TypeVar("M", bound=BaseModel)

SIMPLIFIED_NOTE = "簡易応答モードのため、AIによる詳しい分析は行っていません。"
NO_JUDGEMENT = "判定なし"  # for one-word fields (emotion, tone): the simple mode does not guess
_ADVICE = (
    "結論から先に伝え、そのあとに理由を添えると相手が受け取りやすくなります。",
    "相手の言葉を一度くり返してから自分の考えを伝えると、聞いていることが伝わります。",
    "お願いや断りの場面では、代わりの案を一つ添えると前向きな印象になります。",
)
_MISSING = object()
# Setting ids the chat settings send as hints, in the words a reply can use.
LABELS = {
    "general": "最近のこと",
    "hobby": "趣味",
    "news": "最近のニュース",
    "food": "食べ物",
    "work": "仕事",
    "lunch": "ランチ",
    "break": "休憩中の話",
    "morning": "朝のひととき",
    "evening": "仕事終わりの話",
    "party": "懇親会",
}


@dataclass(frozen=True, slots=True)
class TranscriptView:
    """What the filler knows: the task, hints and who said what."""

    task: ModelTask
    learner_lines: tuple[str, ...]
    counterpart_lines: tuple[str, ...]
    hints: Mapping[str, str]

    @classmethod
    def of(cls, task: ModelTask, messages: Sequence[ChatMessage], hints: Mapping[str, str]) -> TranscriptView:
        learner = tuple(m.text.strip() for m in messages if m.role == "user" and m.text.strip())
        counterpart = tuple(m.text.strip() for m in messages if m.role == "model" and m.text.strip())
        return cls(task, learner, counterpart, hints)

    def quote(self, index: int = -1) -> str:
        if not self.learner_lines:
            return "（発言はまだありません）"
        return _clip(self.learner_lines[index % len(self.learner_lines)], 60)

    def summary(self) -> str:
        topic = self.hints.get("topic") or self.hints.get("situation") or "職場での会話"
        topic = LABELS.get(topic, topic)
        if not self.learner_lines:
            return f"【簡易要約】{_clip(topic, 40)}について、まだ発言はありません。"
        first, last = self.quote(0), self.quote(-1)
        return (
            f"【簡易要約】{_clip(topic, 40)}について、あなたは{len(self.learner_lines)}回発言しました。"
            f"最初は「{first}」、最後は「{last}」と伝えています。"
        )

    def quiz_question(self, index: int) -> str:
        return f"あなたの発言「{self.quote(index)}」を、相手により丁寧に伝えるならどの言い方が適切でしょう？"

    def quiz_options(self, index: int) -> list[str]:
        line = self.quote(index).rstrip("。.!！?？")
        return [f"恐れ入りますが、{line}。", f"{line}。", f"{line}、ってことで。"]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_instance(schema: type[M], view: TranscriptView) -> M:
    """A valid ``schema`` instance built from ``view`` (ModelRejected if a constraint cannot be met)."""
    data = _fill_model(schema, view, index=0)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ModelRejected(f"simple mode cannot build {schema.__name__}: {exc.error_count()} errors") from exc


def _fill_model(schema: type[BaseModel], view: TranscriptView, *, index: int) -> dict[str, Any]:
    return {
        name: _fill_field(name, info, view, index=index)
        for name, info in schema.model_fields.items()
        if not (info.exclude or (name.startswith("_")))
    }


def _fill_field(name: str, info: FieldInfo, view: TranscriptView, *, index: int) -> Any:
    value = _by_name(name.lower(), info.annotation, view, index=index)
    if value is _MISSING:
        if not info.is_required():
            return info.get_default(call_default_factory=True)
        value = _by_type(name.lower(), info.annotation, view, index=index)
    return _constrain(value, info.metadata)


def _by_name(name: str, annotation: Any, view: TranscriptView, *, index: int) -> Any:
    base = _strip_optional(annotation)
    if base is bool and ("simplif" in name or name in ("is_simple", "simple", "degraded")):
        return True
    if base is str:
        if "summary" in name or "要約" in name:
            return view.summary()
        if "quote" in name or "evidence" in name:
            return view.quote(index)
        if "advice" in name or "suggestion" in name or "tip" in name or "improvement" in name:
            return _ADVICE[index % len(_ADVICE)]
        if "question" in name:
            return view.quiz_question(index)
        if "explanation" in name or "reason" in name or "comment" in name or "feedback" in name:
            return SIMPLIFIED_NOTE
        if name in ("note", "notice", "disclaimer"):
            return SIMPLIFIED_NOTE
        if any(word in name for word in ("emotion", "mood", "feeling", "tone")):
            return NO_JUDGEMENT
        if any(word in name for word in ("phrasing", "rewrite", "rephrase")):
            return ""  # no rewrite offered rather than a made-up one
    if typing.get_origin(base) in (list, tuple) and ("option" in name or "choice" in name):
        return view.quiz_options(index)
    if base is int and ("answer" in name or "correct" in name):
        return 0
    return _MISSING


def _by_type(name: str, annotation: Any, view: TranscriptView, *, index: int) -> Any:
    base = _strip_optional(annotation)
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        choices = typing.get_args(base)
        return "simple" if "simple" in choices else choices[0]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        members = list(base)
        simple = [m for m in members if str(m.value) == "simple"]
        return (simple or members)[0].value
    if isinstance(base, type) and issubclass(base, BaseModel):
        return _fill_model(base, view, index=index)
    if origin in (list, tuple, set, frozenset, Sequence):
        args = typing.get_args(base)
        item = args[0] if args else str
        # Quizzes get three questions; extracted memories none (a made-up fact would be remembered).
        count = {ModelTask.QUIZ: 3, ModelTask.MEMORY_EXTRACTION: 0}.get(view.task, 1)
        return [_by_type(name, item, view, index=index + i) for i in range(count)]
    if origin in (dict, Mapping):
        return {}
    if base is bool:
        return False
    if base is int:
        return 0
    if base is float:
        return 0.0
    if base is dt.datetime:
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    if base is str:
        if view.task is ModelTask.QUIZ and "question" not in name:
            return view.quiz_question(index)
        return SIMPLIFIED_NOTE
    return None


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if options:
            return _strip_optional(options[0])
    return annotation


def _constrain(value: Any, metadata: Sequence[Any]) -> Any:
    """Move a number into its range and a string or list into its length limits."""
    for item in metadata:
        if isinstance(value, bool):
            break
        if isinstance(value, int | float):
            value = _in_range(value, metadata)
            break
        if isinstance(value, str | list):
            if isinstance(item, at.MaxLen) and len(value) > item.max_length:
                short = isinstance(value, str) and len(NO_JUDGEMENT) <= item.max_length < 20
                value = NO_JUDGEMENT if short else value[: item.max_length]
            if isinstance(item, at.MinLen) and len(value) < item.min_length:
                pad = "。" if isinstance(value, str) else (value[-1:] or [""])
                value = value + pad * (item.min_length - len(value))
    return value


def _in_range(value: float, metadata: Sequence[Any]) -> float:
    low = high = None
    for item in metadata:
        if isinstance(item, at.Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, at.Gt):
            low = float(item.gt) + (1 if isinstance(value, int) else 1e-6)  # type: ignore[arg-type]
        elif isinstance(item, at.Le):
            high = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, at.Lt):
            high = float(item.lt) - (1 if isinstance(value, int) else 1e-6)  # type: ignore[arg-type]
    # Scores sit in the middle of their scale: the simple mode has no basis to grade up or down.
    if low is not None and high is not None:
        mid = (low + high) / 2
        return int(mid) if isinstance(value, int) else round(mid, 2)
    if low is not None and value < low:
        return int(low) if isinstance(value, int) else low
    if high is not None and value > high:
        return int(high) if isinstance(value, int) else high
    return value
