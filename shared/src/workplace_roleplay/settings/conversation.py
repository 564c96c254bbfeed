"""Conversation settings (chat today, scenario and watch next): limits, context budget, streaming."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings


class ConversationSettings(BaseSettings):
    """Knobs of the shared turn pipeline and its SSE streams."""

    MAX_MESSAGE_CHARS: int = Field(
        2000, ge=1, le=20000, description="Longest learner message, characters (longer: 422 with a clear message)."
    )
    CONTEXT_TOKENS: int = Field(
        6000, ge=50, le=200000, description="Token budget of recent turns in a prompt; older turns are summarised."
    )
    MEMORY_EVERY_TURNS: int = Field(
        4, ge=0, le=100, description="Extract long-term memories every N learner turns (0: only after feedback)."
    )
    MEMORIES_IN_PROMPT: int = Field(3, ge=0, le=20, description="Most relevant memories put into a prompt.")
    STREAM_BUFFER_TTL_S: int = Field(
        600, ge=10, le=86400, description="TTL of stream:{turn_id} replay buffers (Last-Event-ID resume)."
    )
    TURN_LEASE_S: float = Field(
        10.0,
        ge=1,
        le=120,
        description="Life of a turn's lease on its conversation (renewed while it runs): how soon a turn whose "
        "instance died counts as abandoned (ADR 0010).",
    )
    SSE_HEARTBEAT_S: float = Field(
        15.0, gt=0, le=60, description="Seconds of silence before an SSE heartbeat comment is sent."
    )
    NG_WORDS_FILE: Path | None = Field(
        None, description="Moderation word list replacing the bundled one (one word per line, # comments)."
    )
