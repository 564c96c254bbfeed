"""The chat mode's use cases (雑談練習): start, take turns, review, remember, forget.

Routes call exactly one of these; everything below is the shared conversation engine.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal

from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.coaching.reports import Reports
from workplace_roleplay.domain.conversation.events import TurnDone, TurnEvent
from workplace_roleplay.domain.conversation.hot_session import HotSession
from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Message
from workplace_roleplay.domain.conversation.turns import TurnOptions, TurnPipeline
from workplace_roleplay.domain.memory.book import Memory, MemoryBook
from workplace_roleplay.domain.modes.chat import ChatCast, chat_settings
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import (
    ConversationNotFound,
    EmptyMessage,
    InvalidInput,
    MemoryNotFound,
    MessageTooLong,
)
from workplace_roleplay.ports import Cache, Clock, DocumentStore
from workplace_roleplay.ports.model import LanguageModel

SessionSource = Literal["cache", "store"]
# Conversations of every mode share users/{uid}/conversations; this service sees only its own.
MODE = "chat"


@dataclass(frozen=True, slots=True)
class ChatOptions:
    context_tokens: int = 6000
    memory_every_turns: int = 4
    memories_in_prompt: int = 3
    max_message_chars: int = 2000


class ChatService:
    """Free-chat practice over the shared turn pipeline."""

    def __init__(
        self,
        *,
        store: DocumentStore,
        cache: Cache,
        model: LanguageModel,
        clock: Clock,
        moderator: Moderator,
        background: BackgroundWork,
        sealer: TextSealer | None = None,
        options: ChatOptions | None = None,
    ) -> None:
        options = options or ChatOptions()
        self.cast = ChatCast()
        self.repo = ConversationRepository(store, clock, sealer)
        self.memory = MemoryBook(store, model, clock, sealer)
        self.reports = Reports(store=store, cache=cache, model=model, repo=self.repo, clock=clock, sealer=sealer)
        self.session = HotSession(cache)
        self.background = background
        self.options = options
        self.pipeline = TurnPipeline(
            repo=self.repo,
            model=model,
            cast=self.cast,
            moderator=moderator,
            memory=self.memory,
            background=background,
            options=TurnOptions(
                context_tokens=options.context_tokens,
                memory_every_turns=options.memory_every_turns,
                memories_in_prompt=options.memories_in_prompt,
            ),
        )

    async def start(
        self,
        user_id: str,
        *,
        partner_type: str | None = None,
        situation: str | None = None,
        topic: str | None = None,
        coaching: bool = True,
    ) -> Conversation:
        settings = chat_settings(partner_type, situation, topic)
        return await self.repo.create(user_id, mode=MODE, settings=settings, coaching=coaching)

    async def open_turn(
        self,
        user_id: str,
        *,
        conversation_id: str | None,
        message: str | None,
        client_message_id: str | None,
        partner_type: str | None = None,
        situation: str | None = None,
        topic: str | None = None,
        coaching: bool = True,
    ) -> tuple[Conversation, AsyncGenerator[TurnEvent, None]]:
        """Check the learner's line, find or start the conversation, and return the turn's events."""
        if message is not None:
            if not message.strip():
                raise EmptyMessage()
            if len(message) > self.options.max_message_chars:
                raise MessageTooLong(extra={"max_chars": self.options.max_message_chars})
            if not client_message_id:
                raise InvalidInput("client_message_id is required with a message")
        elif conversation_id is not None:
            raise EmptyMessage()
        if conversation_id is None:
            conv = await self.start(
                user_id, partner_type=partner_type, situation=situation, topic=topic, coaching=coaching
            )
        else:
            conv = await self.repo.get(user_id, conversation_id, mode=MODE)
        return conv, self.turn(conv, text=message, client_message_id=client_message_id or "")

    async def conversation(self, user_id: str, conversation_id: str) -> Conversation:
        return await self.repo.get(user_id, conversation_id, mode=MODE)

    async def turn(
        self, conv: Conversation, *, text: str | None, client_message_id: str = ""
    ) -> AsyncGenerator[TurnEvent, None]:
        """One turn's events; ``text`` None lets the partner open the conversation."""
        # aclosing: closing this generator closes the pipeline at once, so a partial reply is stored now.
        async with aclosing(self.pipeline.run(conv, text=text, client_message_id=client_message_id)) as events:
            async for event in events:
                if isinstance(event, TurnDone) and not event.replayed:
                    await self.session.record_turn(conv.user_id, "chat", conv.id)
                yield event

    async def active(self, user_id: str) -> tuple[Conversation | None, SessionSource]:
        """The conversation to resume and where the pointer came from (``cache`` or ``store``).

        The hot session names it without a query (and its TTL slides); when Redis is down, the key
        expired or it points at a deleted conversation, the newest conversation in the store is used
        and the pointer is written back.
        """
        pointer = (await self.session.read(user_id)).get("active_chat")
        if isinstance(pointer, str):
            try:
                conv = await self.repo.get(user_id, pointer, mode=MODE)
            except ConversationNotFound:
                await self.session.forget(user_id, "chat", pointer)
            else:
                await self.session.touch(user_id)
                return conv, "cache"
        newest = await self.repo.list_recent(user_id, limit=1, mode=MODE)
        if not newest:
            return None, "store"
        await self.session.remember_active(user_id, "chat", newest[0].id)
        return newest[0], "store"

    async def conversations(self, user_id: str, *, limit: int, offset: int) -> list[Conversation]:
        return await self.repo.list_recent(user_id, limit=limit, offset=offset, mode=MODE)

    async def messages(self, conv: Conversation, *, limit: int, offset: int) -> list[Message]:
        return await self.repo.messages(conv, limit=limit, offset=offset)

    async def delete(self, user_id: str, conversation_id: str) -> list[str]:
        """Delete the conversation with its messages, reports and cached reports; returns its turn ids
        (the web layer drops their stream buffers, which only it knows how to name)."""
        conv = await self.repo.get(user_id, conversation_id, mode=MODE)
        messages = await self.repo.messages(conv)
        await self.reports.forget(conv, messages)
        await self.repo.delete(user_id, conversation_id)
        await self.session.forget(user_id, "chat", conversation_id)
        return sorted({m.turn_id for m in messages if m.turn_id})

    async def summary(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        conv = await self.repo.get(user_id, conversation_id, mode=MODE)
        return await self.reports.summary(conv, rank=self.cast.partner_rank(conv))

    async def stored_summary(self, user_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The summary made earlier, read back without a model call (None if there is none yet)."""
        return await self.reports.stored_summary(await self.repo.get(user_id, conversation_id, mode=MODE))

    async def stored_feedback(self, user_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The newest feedback report made earlier, read back without a model call (None if none yet)."""
        return await self.reports.stored_feedback(await self.repo.get(user_id, conversation_id, mode=MODE))

    async def feedback(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        """The six-axis report; asking for it also ends the session's memory window."""
        conv = await self.repo.get(user_id, conversation_id, mode=MODE)
        report = await self.reports.feedback(conv, rank=self.cast.partner_rank(conv))
        if not report.get("cached"):
            self.background.spawn(self.pipeline.extract_memories(conv), name="memory_extraction")
        return report

    async def memories(self, user_id: str) -> list[Memory]:
        return await self.memory.list_all(user_id)

    async def forget_memory(self, user_id: str, memory_id: str) -> None:
        if not await self.memory.delete(user_id, memory_id):
            raise MemoryNotFound()
