"""The repository that keeps conversations and their messages in the document store.

Layout (docs/architecture.md, Data): ``users/{uid}/conversations/{cid}`` and ``.../messages/{mid}``. The
records and their ids are in ``model.py``, their document form and sealing in ``documents.py``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from workplace_roleplay.domain.conversation.documents import DocumentCodec
from workplace_roleplay.domain.conversation.model import (
    Conversation,
    Message,
    MessageStatus,
    Role,
    conversation_path,
    learner_message_id,
    reply_message_id,
    turn_id_for,
)
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.errors import ConversationNotFound
from workplace_roleplay.ports import Clock, DocumentStore, Filter, JsonValue
from workplace_roleplay.ports.store import Transaction


class ConversationRepository:
    """Reads and writes conversations and messages.

    Everything that retells what the learner said is sealed at rest: message content, the title (the
    start of the learner's first line), the rolling summary and each message's coaching analysis
    (it quotes and rephrases the learner). ``key_rotation.py`` lists the same fields and contexts.
    """

    def __init__(self, store: DocumentStore, clock: Clock, sealer: TextSealer | None = None) -> None:
        self.store = store
        self.clock = clock
        self.sealer: TextSealer = sealer or PlainSealer()
        self.codec = DocumentCodec(self.sealer)

    # conversations -------------------------------------------------------------------------------

    async def create(
        self,
        user_id: str,
        *,
        mode: str,
        settings: Mapping[str, str],
        coaching: bool,
        title: str = "",
        parent: Conversation | None = None,
        at_turn: int = 0,
    ) -> Conversation:
        now = self.clock.now()
        conv = Conversation(
            parent_id=parent.id if parent else "",
            root_id=(parent.root_id or parent.id) if parent else "",
            forked_at_turn=at_turn,
            id="c" + secrets.token_hex(10),
            user_id=user_id,
            mode=mode,
            settings=dict(settings),
            created_at=now,
            updated_at=now,
            coaching=coaching,
            title=title,
        )
        conv.root_id = conv.root_id or conv.id
        await self.store.create(conv.path, self.codec.conversation_doc(conv))
        return conv

    async def put(self, conv: Conversation) -> None:
        """Store (or overwrite) a whole conversation document with its given id (migration writes these)."""
        conv.root_id = conv.root_id or conv.id
        await self.store.set(conv.path, self.codec.conversation_doc(conv))

    async def get(self, user_id: str, conversation_id: str, *, mode: str | None = None) -> Conversation:
        """The learner's conversation; another learner's id, or another mode's conversation when ``mode``
        is given, reads as not found, never as data."""
        if not _safe_id(conversation_id):
            raise ConversationNotFound()
        doc = await self.store.get(conversation_path(user_id, conversation_id))
        if doc is None or (mode is not None and doc.get("mode") != mode):
            raise ConversationNotFound()
        return self.codec.conversation_from(user_id, conversation_id, doc)

    async def list_recent(
        self, user_id: str, *, limit: int, offset: int = 0, mode: str | None = None, root_id: str | None = None
    ) -> list[Conversation]:
        """The learner's conversations (of one mode, of one fork family when given), most recently updated first."""
        where = [Filter("mode", "==", mode)] if mode is not None else []
        where += [Filter("root_id", "==", root_id)] if root_id is not None else []
        rows = await self.store.query(
            f"users/{user_id}/conversations",
            where=where,
            order_by="updated_at",
            descending=True,
            limit=limit,
            offset=offset,
        )
        return [self.codec.conversation_from(user_id, row.id, row.data) for row in rows]

    async def update(self, conv: Conversation, **fields: JsonValue) -> None:
        """Write some conversation fields and bump ``updated_at``."""
        conv.updated_at = self.clock.now()
        for name, value in fields.items():
            setattr(conv, name, value)
        stored = dict(fields)
        if "title" in stored:
            stored["title"] = self.sealer.seal(str(stored["title"]), context=f"{conv.path}#title")
        await self.store.update(conv.path, {**stored, "updated_at": conv.updated_at})

    async def finish_turn(
        self,
        conv: Conversation,
        *,
        learner: Message | None,
        also: Callable[[Mapping[str, Any]], Mapping[str, JsonValue]] | None = None,
    ) -> None:
        """Count the learner's line and title the conversation after its first one, atomically.

        The counters are read inside the transaction, never from ``conv`` (which may be stale). ``also``
        adds fields computed from the document read in the transaction (the turn lease clears itself so).
        """
        now = self.clock.now()

        async def bump(tx: Transaction) -> tuple[int, str]:
            doc = await tx.get(conv.path)
            if doc is None:
                raise ConversationNotFound()
            count = int(doc.get("turn_count", 0)) + (1 if learner is not None else 0)
            title = self.sealer.open(doc.get("title", ""), context=f"{conv.path}#title")
            fields: dict[str, JsonValue] = {**(also(doc) if also else {}), "turn_count": count, "updated_at": now}
            if learner is not None and not title:
                title = learner.text.strip().replace("\n", " ")[:30]
                fields["title"] = self.sealer.seal(title, context=f"{conv.path}#title")
            tx.update(conv.path, fields)
            return count, title

        conv.turn_count, conv.title = await self.store.run_transaction(bump, attempts=10)
        conv.updated_at = now

    def refresh(self, conv: Conversation, doc: Mapping[str, Any]) -> None:
        """Bring ``conv``'s counters and summary up to the stored document ``doc``."""
        fresh = self.codec.conversation_from(conv.user_id, conv.id, doc)
        conv.turn_count, conv.title, conv.updated_at = fresh.turn_count, fresh.title, fresh.updated_at
        conv.rolling_summary, conv.summary_through = fresh.rolling_summary, fresh.summary_through

    async def set_rolling_summary(self, conv: Conversation, text: str, *, through: float) -> None:
        """Store the rolling summary of older turns (sealed: it retells message content)."""
        conv.rolling_summary, conv.summary_through = text, through
        await self.store.update(
            conv.path,
            {"rolling_summary": self.sealer.seal(text, context=f"{conv.path}#summary"), "summary_through": through},
        )

    async def delete(self, user_id: str, conversation_id: str) -> None:
        """Delete a conversation and its messages (the store does not cascade)."""
        conv = await self.get(user_id, conversation_id)
        for row in await self.store.query(f"{conv.path}/messages"):
            await self.store.delete(row.path)
        await self.store.delete(conv.path)

    # messages ------------------------------------------------------------------------------------

    async def messages(self, conv: Conversation, *, limit: int | None = None, offset: int = 0) -> list[Message]:
        """Messages in the order they were written."""
        rows = await self.store.query(f"{conv.path}/messages", order_by="created_at", limit=limit, offset=offset)
        return [self.codec.message_from(conv, row.id, row.data) for row in rows]

    async def get_message(self, conv: Conversation, message_id: str) -> Message | None:
        doc = await self.store.get(f"{conv.path}/messages/{message_id}")
        return None if doc is None else self.codec.message_from(conv, message_id, doc)

    async def add_new(self, conv: Conversation, message: Message) -> None:
        """Store a message that must not exist yet; ``AlreadyExists`` means this turn was sent before."""
        await self.store.create(f"{conv.path}/messages/{message.id}", self.codec.message_doc(conv, message))

    async def save(self, conv: Conversation, message: Message) -> None:
        """Store (or overwrite) a message."""
        await self.store.set(f"{conv.path}/messages/{message.id}", self.codec.message_doc(conv, message))

    async def set_analysis(self, conv: Conversation, message_id: str, analysis: Mapping[str, Any]) -> None:
        path = f"{conv.path}/messages/{message_id}"
        await self.store.update(path, {"analysis": self.codec.seal_analysis(path, analysis)})


def _safe_id(value: str) -> bool:
    # Ids are spliced into document paths: refuse anything that could walk the tree.
    return 0 < len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()


# The records themselves live in model.py; importing them from here keeps working.
__all__ = [
    "Conversation",
    "ConversationRepository",
    "Message",
    "MessageStatus",
    "Role",
    "conversation_path",
    "learner_message_id",
    "reply_message_id",
    "turn_id_for",
]
