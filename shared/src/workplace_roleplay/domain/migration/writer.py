"""Where migrated conversations are written: the ONE place that knows the conversation storage.

Migrated conversations are shaped the way the conversation engine shapes the ones it starts
(docs/architecture.md, Data): a registered ``Mode``, the mode's validated settings with its defaults,
``root_id``, ``speaker`` on every message (``learner`` for the learner, the character's name for every
other line: the chat partner, the scenario's counterpart, 太郎/花子 in watch), messages sealed with ALE.
What a mode knows (its settings, its lead character) is injected as a ``MigratedShape`` per mode by the
service wiring, so this package imports no mode. Ids are derived from the migration key, so writing
twice (a retry, a resumed partial failure, ten racing requests) overwrites the same documents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from workplace_roleplay.domain.conversation.cast import LEARNER_SPEAKER
from workplace_roleplay.domain.conversation.mode import Mode
from workplace_roleplay.domain.conversation.records import (
    Conversation,
    ConversationRepository,
    Message,
    MessageStatus,
    Role,
    learner_message_id,
    reply_message_id,
)
from workplace_roleplay.domain.migration.plan import PlannedConversation
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import InvalidInput
from workplace_roleplay.ports import Clock, DocumentStore

LEGACY_ERROR_NOTICE = "legacy_error"
UNKNOWN_COUNTERPART = "相手役"  # a line whose character the mode cannot name (an unmapped legacy scenario)


def conversation_id_for(migration_key: str, conversation_key: str) -> str:
    """The v2 id of a migrated conversation (stable: the same session always yields the same ids)."""
    return "lg" + hashlib.sha256(f"{migration_key}\x00{conversation_key}".encode()).hexdigest()[:22]


class ConversationWriter(Protocol):
    async def write(self, user_id: str, conversation_id: str, planned: PlannedConversation) -> None:
        """Store one planned conversation with its messages (idempotent for the same arguments)."""
        ...


@dataclass(frozen=True, slots=True)
class MigratedShape:
    """What one mode contributes to a migrated conversation (a mode's ``settings`` and ``cast(conv).lead``)."""

    settings: Callable[[Mapping[str, str | None]], dict[str, str]]
    lead: Callable[[Conversation], str]


def _as_is(raw: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in raw.items() if v is not None}


PLAIN = MigratedShape(settings=_as_is, lead=lambda conv: UNKNOWN_COUNTERPART)


def lenient_settings(shape: MigratedShape, raw: Mapping[str, str]) -> dict[str, str]:
    """The mode's validated settings from legacy values, dropping (to the mode's default) any it refuses."""
    kept: dict[str, str | None] = {}
    for name, value in raw.items():
        try:
            shape.settings({**kept, name: value})
        except InvalidInput:
            continue
        kept[name] = value
    return shape.settings(kept)


class RepositoryConversationWriter:
    """Writes through ``ConversationRepository`` (``users/{uid}/conversations/{cid}/messages``)."""

    def __init__(
        self,
        store: DocumentStore,
        clock: Clock,
        sealer: TextSealer | None = None,
        *,
        shapes: Mapping[str, MigratedShape] | None = None,
    ) -> None:
        self.repo = ConversationRepository(store, clock, sealer)
        self.shapes = dict(shapes or {})

    async def write(self, user_id: str, conversation_id: str, planned: PlannedConversation) -> None:
        mode = Mode(planned.mode)
        shape = self.shapes.get(mode.value, PLAIN)
        settings = lenient_settings(shape, planned.settings)
        conv = Conversation(
            id=conversation_id,
            user_id=user_id,
            mode=mode.value,
            settings=settings,
            created_at=planned.created_at,
            updated_at=planned.updated_at,
            coaching=mode is not Mode.WATCH,
            turn_count=planned.turn_count,
            title=planned.title,
            extra={**planned.extra, "migrated_from_legacy": True, "legacy_settings": dict(planned.settings)},
            root_id=conversation_id,
        )
        lead = shape.lead(conv) or UNKNOWN_COUNTERPART
        for message in _messages(conv, planned, lead=lead):
            await self.repo.save(conv, message)
        # The conversation document last: it only lists once its messages are there.
        await self.repo.put(conv)


def _messages(conv: Conversation, planned: PlannedConversation, *, lead: str) -> list[Message]:
    out: list[Message] = []
    turn, has_reply = "", True
    for index, m in enumerate(planned.messages):
        if m.role == "learner" or has_reply:
            turn = "t" + hashlib.sha256(f"{conv.id}\x00{index}".encode()).hexdigest()[:24]
            has_reply = False
        learner = m.role == "learner"
        has_reply = has_reply or not learner
        out.append(
            Message(
                id=learner_message_id(turn) if learner else reply_message_id(turn),
                role=Role.LEARNER if learner else Role.COUNTERPART,
                text=m.text,
                created_at=m.created_at,
                turn_id=turn,
                speaker=LEARNER_SPEAKER if learner else (m.speaker or lead),
                status=MessageStatus.FAILED if m.failed else MessageStatus.COMPLETE,
                model=m.model,
                notice=LEGACY_ERROR_NOTICE if m.failed else "",
            )
        )
    return out
