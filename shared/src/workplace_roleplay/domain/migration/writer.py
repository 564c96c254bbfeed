"""Where migrated conversations are written: the ONE place that knows the conversation storage.

Today it writes through ``ConversationRepository`` (messages sealed with ALE like every chat message);
when the conversation engine lands, repoint ``RepositoryConversationWriter`` at it here and nothing else
in the migration changes. Ids are derived from the migration key, so writing twice (a retry, a resumed
partial failure, ten racing requests) overwrites the same documents instead of adding new ones.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

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
from workplace_roleplay.ports import Clock, DocumentStore

LEGACY_ERROR_NOTICE = "legacy_error"


def conversation_id_for(migration_key: str, conversation_key: str) -> str:
    """The v2 id of a migrated conversation (stable: the same session always yields the same ids)."""
    return "lg" + hashlib.sha256(f"{migration_key}\x00{conversation_key}".encode()).hexdigest()[:22]


class ConversationWriter(Protocol):
    async def write(self, user_id: str, conversation_id: str, planned: PlannedConversation) -> None:
        """Store one planned conversation with its messages (idempotent for the same arguments)."""
        ...


class RepositoryConversationWriter:
    """Writes through today's ``ConversationRepository`` (``users/{uid}/conversations/{cid}/messages``)."""

    def __init__(self, store: DocumentStore, clock: Clock, sealer: TextSealer | None = None) -> None:
        self.repo = ConversationRepository(store, clock, sealer)

    async def write(self, user_id: str, conversation_id: str, planned: PlannedConversation) -> None:
        conv = Conversation(
            id=conversation_id,
            user_id=user_id,
            mode=planned.mode,
            settings=dict(planned.settings),
            created_at=planned.created_at,
            updated_at=planned.updated_at,
            coaching=planned.mode != "watch",
            turn_count=planned.turn_count,
            title=planned.title,
            extra={**planned.extra, "migrated_from_legacy": True},
        )
        for message in _messages(conv, planned):
            await self.repo.save(conv, message)
        # The conversation document last: it only lists once its messages are there.
        await self.repo.store.set(conv.path, self.repo._conversation_doc(conv))


def _messages(conv: Conversation, planned: PlannedConversation) -> list[Message]:
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
                speaker=m.speaker,
                status=MessageStatus.FAILED if m.failed else MessageStatus.COMPLETE,
                model=m.model,
                notice=LEGACY_ERROR_NOTICE if m.failed else "",
            )
        )
    return out
