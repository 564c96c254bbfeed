"""The language-model port. The domain speaks only this; ``google.genai`` stays in the adapters.

A stream yields ``TextDelta`` values and ends with exactly one ``Completion`` (the whole text, the
model that produced it, whether it was the simple-response mode, usage and finish reason).
Errors of the first chunk are raised by the first ``__anext__``, before anything was yielded, so the
web layer can read one event before it commits a 200. A stream that breaks after text was yielded
does not raise: it ends with ``Completion(partial=True, error_code=...)`` (the text that arrived),
which the web layer turns into its ``error`` event.

``embed`` is optional in effect: it returns None whenever embeddings are not available (simple mode,
no embedding model configured, an outage), never raises for an outage, so callers keep an offline
path (memory relevance falls back to its lexical score).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel


class ModelTask(StrEnum):
    """What a generation is for; the routing policy picks the model class per task."""

    OPENING = "opening"  # the counterpart's first line
    CONVERSATION_TURN = "conversation_turn"  # chat and scenario counterpart replies
    WATCH_LINE = "watch_line"  # one line of an AI-AI conversation
    TURN_ANALYSIS = "turn_analysis"  # live coaching of one learner turn
    FEEDBACK_REPORT = "feedback_report"
    SUMMARY = "summary"
    QUIZ = "quiz"
    MEMORY_EXTRACTION = "memory_extraction"


class GenerationMode(StrEnum):
    MODEL = "model"  # a real language model answered
    SIMPLE = "simple"  # the deterministic simple-response mode (簡易応答モード) answered


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One line of the transcript as the model sees it."""

    role: Literal["user", "model"]
    text: str
    speaker: str = ""


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything a model call needs. ``hints`` carry structured context (persona, situation, mode,
    counterpart's setting...) that the simple-response mode uses instead of reading the prompt."""

    task: ModelTask
    system: str
    messages: Sequence[ChatMessage]
    temperature: float | None = None
    max_output_tokens: int | None = None
    hints: Mapping[str, str] = field(default_factory=dict)
    user_id: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Completion:
    """The end of a generation."""

    text: str
    model: str
    mode: GenerationMode
    finish_reason: str = "STOP"
    usage: Usage = field(default_factory=Usage)
    notice: str = ""  # user-facing notice (e.g. simple-response mode) in Japanese, empty when none
    partial: bool = False  # the stream broke off; ``text`` is what arrived
    error_code: str = ""  # with ``partial``: the error (errors.py code) that broke the stream off


# Embedding task types (Gemini's names): a query is compared against stored documents.
EMBED_QUERY = "RETRIEVAL_QUERY"
EMBED_DOCUMENT = "RETRIEVAL_DOCUMENT"

StreamEvent = TextDelta | Completion
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Structured(Generic[M]):
    """A validated structured result and how it was produced."""

    value: M
    completion: Completion
    cached: bool = False


class LanguageModel(Protocol):
    """Text generation (streamed, one-shot or structured: validated pydantic output) and embeddings."""

    def stream(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        """Text deltas, then one ``Completion``; closing the generator cancels the upstream call."""
        ...

    async def generate(self, request: GenerationRequest) -> Completion: ...

    async def generate_structured(self, request: GenerationRequest, schema: type[M]) -> Structured[M]: ...

    async def embed(self, texts: Sequence[str], *, task: str) -> list[list[float]] | None:
        """One vector per text (same order), or None when embeddings are not available right now."""
        ...

    async def close(self) -> None:
        """Close the clients (at shutdown)."""
        ...
