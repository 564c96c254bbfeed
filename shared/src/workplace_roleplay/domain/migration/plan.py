"""What a legacy session becomes in v2: the result of the pure transform, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["chat", "scenario", "watch"]
MODES: tuple[Mode, ...] = ("chat", "scenario", "watch")


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """One v2 message: the learner's line or a counterpart's (a persona in watch mode)."""

    role: Literal["learner", "counterpart"]
    text: str
    created_at: float
    speaker: str = ""
    failed: bool = False  # a legacy error text stored as the AI turn: kept, marked failed, never shown as a reply
    model: str = ""


@dataclass(frozen=True, slots=True)
class PlannedConversation:
    """One v2 conversation. ``key`` is stable per session (``chat``, ``watch``, ``scenario:<legacy id>``)."""

    key: str
    mode: Mode
    settings: dict[str, str]
    created_at: float
    updated_at: float
    title: str
    extra: dict[str, Any]
    messages: tuple[PlannedMessage, ...]

    @property
    def turn_count(self) -> int:
        return sum(1 for m in self.messages if m.role == "learner")


@dataclass(frozen=True, slots=True)
class Progress:
    """Learning progress the legacy app kept (session plus the optional server-side ``user_data``)."""

    strength_history: dict[str, Any] = field(default_factory=dict)
    quiz_results: list[dict[str, Any]] = field(default_factory=list)
    last_quiz: dict[str, Any] | None = None
    user_data: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not (self.strength_history or self.quiz_results or self.last_quiz or self.user_data)


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """Everything one legacy session becomes."""

    user_id: str
    user_id_generated: bool
    conversations: tuple[PlannedConversation, ...]
    progress: Progress
    consents: dict[str, Any]
    legacy_csrf_token: str
    dropped: tuple[str, ...]
    unknown: dict[str, Any]
    skipped_empty_scenarios: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """Conversations per mode."""
        return {mode: sum(1 for c in self.conversations if c.mode == mode) for mode in MODES}

    @property
    def message_count(self) -> int:
        return sum(len(c.messages) for c in self.conversations)

    @property
    def has_content(self) -> bool:
        """False for a session that holds nothing of the learner's (a CSRF token only)."""
        return bool(self.conversations) or not self.progress.empty or bool(self.consents) or not self.user_id_generated
