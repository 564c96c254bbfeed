"""Request and response bodies of the chat API (validated by Pydantic, documented in OpenAPI)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

PartnerType = Literal["colleague", "senior", "junior", "boss", "client"]
Situation = Literal["lunch", "break", "morning", "evening", "party"]
Topic = Literal["general", "hobby", "news", "food", "work"]


class ChatTurnRequest(BaseModel):
    """Start a conversation (no ``conversation_id``) or continue one.

    Without ``message`` a new conversation is opened by the counterpart. The message is kept exactly as
    typed (newlines and spaces included); ``client_message_id`` makes a retry safe.
    """

    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    message: str | None = Field(None, max_length=20000, description="The learner's line (limit: MAX_MESSAGE_CHARS).")
    client_message_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Client-made id of this line; required with `message`.",
        validate_default=True,
    )
    partner_type: PartnerType | None = None
    situation: Situation | None = None
    topic: Topic | None = None
    coaching: bool = Field(True, description="Live coaching card after each learner turn.")

    @field_validator("client_message_id", mode="after")
    @classmethod
    def _required_with_a_message(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A 422 that names the field (``details``), before the turn pipeline sees the request.
        if value is None and info.data.get("message") is not None:
            raise PydanticCustomError("missing", "client_message_id is required with a message")
        return value


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class ChatTurnResult(BaseModel):
    """The whole turn at once (``Accept: application/json``)."""

    conversation_id: str
    turn_id: str
    learner_message_id: str | None
    reply_message_id: str | None
    text: str
    status: str
    model: str = ""
    simple_mode: bool = False
    notice: str = ""
    nudge: str = ""
    replayed: bool = False
    usage: Usage = Usage()
    analysis: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class ConversationSummaryItem(BaseModel):
    id: str
    mode: str
    title: str
    settings: dict[str, str]
    turn_count: int
    created_at: float
    updated_at: float


class ActiveSession(BaseModel):
    """The conversation to resume (the newest one when the hot session has none)."""

    conversation: ConversationSummaryItem | None
    source: Literal["cache", "store"] = Field(
        description="Where the pointer came from: the hot session in Redis, or the store (Redis down, key expired)."
    )


class ConversationPage(BaseModel):
    items: list[ConversationSummaryItem]
    limit: int
    offset: int
    next_offset: int | None


class MessageOut(BaseModel):
    id: str
    role: str
    speaker: str
    text: str
    status: str
    created_at: float
    model: str = ""
    simple_mode: bool = False
    analysis: dict[str, Any] | None = None
    notice: str = ""


class ConversationDetail(BaseModel):
    conversation: ConversationSummaryItem
    coaching: bool
    messages: list[MessageOut]
    limit: int
    offset: int
    next_offset: int | None


class MemoryOut(BaseModel):
    id: str
    text: str
    kind: str
    salience: float
    counterpart: str
    conversation_id: str
    created_at: float


class MemoryList(BaseModel):
    items: list[MemoryOut]


class SummaryOut(BaseModel):
    """Summary of a conversation; ``simple_mode`` marks the offline, rule-based version."""

    conversation_id: str
    summary: str
    key_points: list[str]
    learning_points: list[str]
    simple_mode: bool
    notice: str
    model: str
    created_at: float
    cached: bool


class CheckOut(BaseModel):
    id: str
    question: str
    passed: bool
    evidence: str = Field(description="The learner's own words that show the check passed ('' if not).")


class AxisOut(BaseModel):
    axis: Literal["empathy", "clarity", "active_listening", "adaptability", "positivity", "professionalism"]
    label: str
    score: int = Field(ge=0, le=100, description="Share of this axis's checks passed with quoted evidence.")
    checks: list[CheckOut]


class FeedbackOut(BaseModel):
    """The six-axis feedback report."""

    report_id: str
    conversation_id: str
    scores: dict[str, int]
    axes: list[AxisOut]
    strengths: list[str]
    growth_points: list[str]
    tomorrow_action: str
    simple_mode: bool
    notice: str
    model: str
    created_at: float
    cached: bool
