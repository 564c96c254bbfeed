"""What one turn of the pipeline yields: typed events the web layer turns into SSE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workplace_roleplay.errors import AppError, ModelUnavailable


@dataclass(frozen=True, slots=True)
class TurnStarted:
    conversation_id: str
    turn_id: str
    learner_message_id: str | None
    replayed: bool = False  # answered from the store (a repeated client message), not generated


@dataclass(frozen=True, slots=True)
class Token:
    text: str


@dataclass(frozen=True, slots=True)
class AnalysisReady:
    message_id: str
    analysis: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TurnDone:
    conversation_id: str
    turn_id: str
    learner_message_id: str | None
    reply_message_id: str
    text: str
    model: str
    simple_mode: bool
    status: str
    input_tokens: int = 0
    output_tokens: int = 0
    notice: str = ""
    nudge: str = ""
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class TurnFailed:
    conversation_id: str
    turn_id: str
    code: str
    message_ja: str
    learner_message_id: str | None
    reply_message_id: str | None  # set when a partial reply was stored
    partial_text: str = ""


@dataclass(frozen=True, slots=True)
class LineStarted:
    """A character begins a line (only in casts with more than one character)."""

    message_id: str
    speaker: str


@dataclass(frozen=True, slots=True)
class LineDone:
    """A character's line is stored (only in casts with more than one character)."""

    message_id: str
    speaker: str
    text: str
    status: str


@dataclass(frozen=True, slots=True)
class ModeEvent:
    """An event of a mode's own (a quiz, a scene change...), sent just before ``done`` as SSE ``name``."""

    name: str
    data: dict[str, Any]


TurnEvent = TurnStarted | Token | LineStarted | LineDone | AnalysisReady | ModeEvent | TurnDone | TurnFailed


def error_for_code(code: str) -> type[AppError]:
    """The error class of the tree that carries ``code`` (the generic one when unknown)."""
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return ModelUnavailable
