"""Conversations and their messages, and the repository that keeps them in the document store.

Layout (docs/architecture.md, Data): ``users/{uid}/conversations/{cid}`` and ``.../messages/{mid}``. A turn's two
messages get ids derived from the turn id (``{turn}-l`` learner, ``{turn}-r`` counterpart), and the
turn id is derived from the client's ``client_message_id``: storing the learner line with
``create`` is therefore the idempotency check itself.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.errors import ConversationNotFound
from workplace_roleplay.ports import Clock, DocumentStore, Filter, JsonValue
from workplace_roleplay.ports.store import Transaction


class Role(StrEnum):
    LEARNER = "learner"
    COUNTERPART = "counterpart"


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"  # the stream broke off (disconnect or model failure); the text is what arrived
    FAILED = "failed"  # nothing usable arrived


@dataclass
class Conversation:
    """One practice conversation (chat, scenario or watch) of one learner."""

    id: str
    user_id: str
    mode: str
    settings: dict[str, str]
    created_at: float
    updated_at: float
    coaching: bool = True
    turn_count: int = 0
    title: str = ""
    rolling_summary: str = ""
    summary_through: float = 0.0  # created_at of the newest message the rolling summary covers
    extra: dict[str, Any] = field(default_factory=dict)
    # Branching: a fork records the conversation it was forked from, the family's root and the learner
    # turn (1-based) it was forked at; empty/0 for an original.
    parent_id: str = ""
    root_id: str = ""
    forked_at_turn: int = 0

    @property
    def path(self) -> str:
        return conversation_path(self.user_id, self.id)


@dataclass
class Message:
    """One line of a conversation as stored."""

    id: str
    role: Role
    text: str
    created_at: float
    turn_id: str
    speaker: str = ""
    status: MessageStatus = MessageStatus.COMPLETE
    client_message_id: str = ""
    model: str = ""
    simple_mode: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    analysis: dict[str, Any] | None = None
    notice: str = ""


def conversation_path(user_id: str, conversation_id: str) -> str:
    return f"users/{user_id}/conversations/{conversation_id}"


def turn_id_for(conversation_id: str, client_message_id: str) -> str:
    """The turn id a client message id maps to (stable, so a retry finds the stored turn)."""
    if not client_message_id:
        return "t" + secrets.token_hex(12)
    digest = hashlib.sha256(f"{conversation_id}\x00{client_message_id}".encode()).hexdigest()
    return "t" + digest[:24]


def learner_message_id(turn_id: str) -> str:
    return f"{turn_id}-l"


def reply_message_id(turn_id: str, index: int = 0) -> str:
    """The id of a turn's ``index``-th character line (``-r``, then ``-r2``, ``-r3``...)."""
    return f"{turn_id}-r" if index == 0 else f"{turn_id}-r{index + 1}"


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
        await self.store.create(conv.path, self._conversation_doc(conv))
        return conv

    async def put(self, conv: Conversation) -> None:
        """Store (or overwrite) a whole conversation document with its given id (migration writes these)."""
        conv.root_id = conv.root_id or conv.id
        await self.store.set(conv.path, self._conversation_doc(conv))

    async def get(self, user_id: str, conversation_id: str, *, mode: str | None = None) -> Conversation:
        """The learner's conversation; another learner's id, or another mode's conversation when ``mode``
        is given, reads as not found, never as data."""
        if not _safe_id(conversation_id):
            raise ConversationNotFound()
        doc = await self.store.get(conversation_path(user_id, conversation_id))
        if doc is None or (mode is not None and doc.get("mode") != mode):
            raise ConversationNotFound()
        return self._conversation_from(user_id, conversation_id, doc)

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
        return [self._conversation_from(user_id, row.id, row.data) for row in rows]

    async def update(self, conv: Conversation, **fields: JsonValue) -> None:
        """Write some conversation fields and bump ``updated_at``."""
        conv.updated_at = self.clock.now()
        for name, value in fields.items():
            setattr(conv, name, value)
        stored = dict(fields)
        if "title" in stored:
            stored["title"] = self.sealer.seal(str(stored["title"]), context=f"{conv.path}#title")
        await self.store.update(conv.path, {**stored, "updated_at": conv.updated_at})

    async def finish_turn(self, conv: Conversation, *, learner: Message | None) -> None:
        """Count the learner's line and title the conversation after its first one, atomically.

        The counters are read inside the transaction, never from ``conv`` (which may be stale).
        """
        now = self.clock.now()

        async def bump(tx: Transaction) -> tuple[int, str]:
            doc = await tx.get(conv.path)
            if doc is None:
                raise ConversationNotFound()
            count = int(doc.get("turn_count", 0)) + (1 if learner is not None else 0)
            title = self.sealer.open(doc.get("title", ""), context=f"{conv.path}#title")
            fields: dict[str, JsonValue] = {"turn_count": count, "updated_at": now}
            if learner is not None and not title:
                title = learner.text.strip().replace("\n", " ")[:30]
                fields["title"] = self.sealer.seal(title, context=f"{conv.path}#title")
            tx.update(conv.path, fields)
            return count, title

        conv.turn_count, conv.title = await self.store.run_transaction(bump, attempts=10)
        conv.updated_at = now

    def refresh(self, conv: Conversation, doc: Mapping[str, Any]) -> None:
        """Bring ``conv``'s counters and summary up to the stored document ``doc``."""
        fresh = self._conversation_from(conv.user_id, conv.id, doc)
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
        return [self._message_from(conv, row.id, row.data) for row in rows]

    async def get_message(self, conv: Conversation, message_id: str) -> Message | None:
        doc = await self.store.get(f"{conv.path}/messages/{message_id}")
        return None if doc is None else self._message_from(conv, message_id, doc)

    async def add_new(self, conv: Conversation, message: Message) -> None:
        """Store a message that must not exist yet; ``AlreadyExists`` means this turn was sent before."""
        await self.store.create(f"{conv.path}/messages/{message.id}", self._message_doc(conv, message))

    async def save(self, conv: Conversation, message: Message) -> None:
        """Store (or overwrite) a message."""
        await self.store.set(f"{conv.path}/messages/{message.id}", self._message_doc(conv, message))

    async def set_analysis(self, conv: Conversation, message_id: str, analysis: Mapping[str, Any]) -> None:
        path = f"{conv.path}/messages/{message_id}"
        await self.store.update(path, {"analysis": self._seal_analysis(path, analysis)})

    def _seal_analysis(self, path: str, analysis: Mapping[str, Any] | None) -> JsonValue:
        if analysis is None:
            return None
        return self.sealer.seal(json.dumps(dict(analysis), ensure_ascii=False), context=f"{path}#analysis")

    def _open_analysis(self, path: str, value: JsonValue) -> dict[str, Any] | None:
        if value is None:
            return None
        opened = json.loads(self.sealer.open(value, context=f"{path}#analysis"))
        return opened if isinstance(opened, dict) else None

    def _message_doc(self, conv: Conversation, m: Message) -> dict[str, JsonValue]:
        path = f"{conv.path}/messages/{m.id}"
        return {
            "role": m.role.value,
            "speaker": m.speaker,
            "content": self.sealer.seal(m.text, context=path),
            "created_at": m.created_at,
            "turn_id": m.turn_id,
            "status": m.status.value,
            "client_message_id": m.client_message_id,
            "model": m.model,
            "simple_mode": m.simple_mode,
            "usage": {"input_tokens": m.input_tokens, "output_tokens": m.output_tokens},
            "analysis": self._seal_analysis(path, m.analysis),
            "notice": m.notice,
        }

    def _message_from(self, conv: Conversation, message_id: str, d: Mapping[str, Any]) -> Message:
        usage = d.get("usage") or {}
        path = f"{conv.path}/messages/{message_id}"
        return Message(
            id=message_id,
            role=Role(d.get("role", Role.LEARNER.value)),
            text=self.sealer.open(d.get("content", ""), context=path),
            created_at=float(d.get("created_at", 0.0)),
            turn_id=str(d.get("turn_id", "")),
            speaker=str(d.get("speaker", "")),
            status=MessageStatus(d.get("status", MessageStatus.COMPLETE.value)),
            client_message_id=str(d.get("client_message_id", "")),
            model=str(d.get("model", "")),
            simple_mode=bool(d.get("simple_mode", False)),
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            analysis=self._open_analysis(path, d.get("analysis")),
            notice=str(d.get("notice", "")),
        )

    def _conversation_doc(self, c: Conversation) -> dict[str, JsonValue]:
        return {
            "mode": c.mode,
            "settings": dict(c.settings),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "coaching": c.coaching,
            "turn_count": c.turn_count,
            "title": self.sealer.seal(c.title, context=f"{c.path}#title"),
            "rolling_summary": self.sealer.seal(c.rolling_summary, context=f"{c.path}#summary"),
            "summary_through": c.summary_through,
            "extra": dict(c.extra),
            "parent_id": c.parent_id,
            "root_id": c.root_id or c.id,
            "forked_at_turn": c.forked_at_turn,
        }

    def _conversation_from(self, user_id: str, conversation_id: str, d: Mapping[str, Any]) -> Conversation:
        path = conversation_path(user_id, conversation_id)
        return Conversation(
            id=conversation_id,
            user_id=user_id,
            mode=str(d.get("mode", "chat")),
            settings={str(k): str(v) for k, v in (d.get("settings") or {}).items()},
            created_at=float(d.get("created_at", 0.0)),
            updated_at=float(d.get("updated_at", 0.0)),
            coaching=bool(d.get("coaching", True)),
            turn_count=int(d.get("turn_count", 0)),
            title=self.sealer.open(d.get("title", ""), context=f"{path}#title"),
            rolling_summary=self.sealer.open(d.get("rolling_summary", ""), context=f"{path}#summary"),
            summary_through=float(d.get("summary_through", 0.0)),
            extra=dict(d.get("extra") or {}),
            parent_id=str(d.get("parent_id", "")),
            root_id=str(d.get("root_id", "") or conversation_id),
            forked_at_turn=int(d.get("forked_at_turn", 0)),
        )


def _safe_id(value: str) -> bool:
    # Ids are spliced into document paths: refuse anything that could walk the tree.
    return 0 < len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()
