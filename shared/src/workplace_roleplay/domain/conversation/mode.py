"""The extension point: what a mode supplies to the conversation engine (docs/architecture.md, "Modes").

A mode validates its own settings, builds its cast, writes each character's brief and opening
instruction, picks who answers in a turn and may add events of its own after a turn (never named
``done`` or ``error``: those end the stream). Everything else (storage, turns, streaming, reports,
memories, forks) is the engine's. The engine never imports a mode; a service passes one in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Protocol

from workplace_roleplay.domain.conversation.cast import Cast, Participant
from workplace_roleplay.domain.conversation.events import ModeEvent, TurnDone
from workplace_roleplay.domain.conversation.records import Conversation


class Mode(StrEnum):
    """The registered modes; a conversation document's ``mode`` is one of these values."""

    CHAT = "chat"
    SCENARIO = "scenario"
    WATCH = "watch"


class ConversationMode(Protocol):
    """One mode's rules. ``ModeBase`` gives the defaults; a mode overrides what is its own."""

    mode: str

    def settings(self, raw: Mapping[str, str | None]) -> dict[str, str]:
        """Validated settings of a new conversation (``InvalidInput`` for unknown values)."""
        ...

    def cast(self, conv: Conversation) -> Cast:
        """The participants of this conversation (at least one character)."""
        ...

    def brief(self, conv: Conversation, speaker: Participant) -> str:
        """Who ``speaker`` is, the scene and the topic, in Japanese (the core of its prompt)."""
        ...

    def opening_instruction(self, conv: Conversation, speaker: Participant) -> str:
        """The instruction that makes ``speaker`` open the conversation."""
        ...

    def responders(self, conv: Conversation, *, learner_spoke: bool) -> Sequence[Participant]:
        """The characters who speak in this turn, in order (after the learner's line, if any)."""
        ...

    def hints(self, conv: Conversation) -> Mapping[str, str]:
        """Structured context for the simple-response mode (it does not read prompts)."""
        ...

    async def extra_events(self, conv: Conversation, done: TurnDone) -> Sequence[ModeEvent]:
        """The mode's own events after a turn's lines are stored (sent before ``done``; not on replays)."""
        ...


class ModeBase:
    """Defaults: the lead character answers every turn; no hints beyond the mode's name."""

    mode: str = ""

    def cast(self, conv: Conversation) -> Cast:
        raise NotImplementedError

    def responders(self, conv: Conversation, *, learner_spoke: bool) -> Sequence[Participant]:
        return (self.cast(conv).lead,)

    def hints(self, conv: Conversation) -> Mapping[str, str]:
        return {"mode": self.mode}

    async def extra_events(self, conv: Conversation, done: TurnDone) -> Sequence[ModeEvent]:
        return ()

    def metric_labels(self, conv: Conversation) -> Mapping[str, str]:
        """Bounded labels of the product metrics: ``category`` (scenario category) and ``scenario`` (its id).

        Optional (the engine reads it with ``getattr``): a mode without it counts as category "none".
        """
        return {}


def counterpart_rank(mode: ConversationMode, conv: Conversation) -> str:
    """The lead character's rank: the keigo the coach and the grader expect of the learner."""
    return mode.cast(conv).lead.rank
