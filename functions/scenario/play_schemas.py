"""Request and response bodies of scenario play (sessions, turns, hints, reports, forks)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    coaching: bool = Field(True, description="Live coaching card after each learner turn.")


class TurnIn(BaseModel):
    """The learner's line; without ``message`` (only on a new counterpart-first session) the opening."""

    model_config = ConfigDict(extra="forbid")

    message: str | None = Field(None, max_length=20000, description="The learner's line (limit: MAX_MESSAGE_CHARS).")
    client_message_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Client-made id of this line; required with `message`.",
        validate_default=True,
    )

    @field_validator("client_message_id", mode="after")
    @classmethod
    def _required_with_a_message(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("message") is not None:
            raise PydanticCustomError("missing", "client_message_id is required with a message")
        return value


class ForkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_turn: int = Field(ge=1, le=1000, description="The learner turn (1-based) to say again.")


class SessionItem(BaseModel):
    id: str
    scenario_id: str
    scenario_title: str
    title: str
    turn_count: int
    parent_id: str
    forked_at_turn: int
    created_at: float
    updated_at: float


class SessionStart(BaseModel):
    session: SessionItem
    learner_first: bool = Field(description="True: the learner speaks first (show situation_card).")
    situation_card: str | None
    opening_pending: bool = Field(description="True: POST a turn without message to stream the opening.")


class SessionMessage(BaseModel):
    id: str
    role: str
    speaker: str
    text: str
    status: str
    created_at: float
    model: str
    simple_mode: bool
    analysis: dict[str, Any] | None
    notice: str


class SessionDetail(BaseModel):
    session: SessionItem
    learner_first: bool
    situation_card: str | None
    counterpart: str
    messages: list[SessionMessage]
    mood: list[dict[str, Any]]
    mood_notice: str
    hints_used: list[dict[str, Any]]
    has_report: bool


class SessionPage(BaseModel):
    items: list[SessionItem]
    limit: int
    offset: int
    next_offset: int | None


class HintOut(BaseModel):
    turn: int
    level: str
    label: str
    text: str
    at: float


class CompareOut(BaseModel):
    items: list[dict[str, Any]]
