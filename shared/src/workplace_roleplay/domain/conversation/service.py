"""The conversation engine: every use case that is not a mode's own, for one mode (docs/architecture.md).

A service builds one ``ConversationService`` per mode it serves from an ``EngineContext`` (its ports)
and the mode's rules; routes call exactly one of these methods each.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal

from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.coaching.reports import Reports
from workplace_roleplay.domain.conversation import forks
from workplace_roleplay.domain.conversation.events import TurnDone, TurnEvent
from workplace_roleplay.domain.conversation.hot_session import HotSession
from workplace_roleplay.domain.conversation.mode import ConversationMode, Mode, counterpart_rank
from workplace_roleplay.domain.conversation.paging import Page, page
from workplace_roleplay.domain.conversation.ratings import Rating, Ratings
from workplace_roleplay.domain.conversation.ratings import check as check_rating
from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Message
from workplace_roleplay.domain.conversation.turns import TurnOptions, TurnPipeline
from workplace_roleplay.domain.memory.book import Memory, MemoryBook
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.errors import ConversationNotFound, EmptyMessage, InvalidInput, MemoryNotFound, MessageTooLong
from workplace_roleplay.ports import Cache, Clock, DocumentStore
from workplace_roleplay.ports.model import LanguageModel
from workplace_roleplay.ports.product import ProductEvents, RatingTarget
from workplace_roleplay.ports.streams import StreamBuffers
from workplace_roleplay.telemetry import PrometheusProductEvents

SessionSource = Literal["cache", "store"]


@dataclass(frozen=True, slots=True)
class EngineOptions:
    context_tokens: int = 6000
    memory_every_turns: int = 4
    memories_in_prompt: int = 3
    max_message_chars: int = 2000
    turn_lease_s: float = 10.0


@dataclass(frozen=True, slots=True)
class EngineContext:
    """The ports a conversation engine runs on (built once at a service's startup)."""

    store: DocumentStore
    cache: Cache
    model: LanguageModel
    clock: Clock
    moderator: Moderator
    background: BackgroundWork
    streams: StreamBuffers
    sealer: TextSealer | None = None
    # What learners do, counted (ports/product.py); every service gets the Prometheus counters by default.
    product: ProductEvents = field(default_factory=PrometheusProductEvents)


class ConversationService:
    """Start, take turns, read, list, resume, delete, review, remember and fork conversations of one mode."""

    def __init__(self, ctx: EngineContext, mode: ConversationMode, options: EngineOptions | None = None) -> None:
        self.ctx, self.mode = ctx, mode
        self.options = options = options or EngineOptions()
        self.repo = ConversationRepository(ctx.store, ctx.clock, ctx.sealer)
        self.memory = MemoryBook(ctx.store, ctx.model, ctx.clock, ctx.sealer)
        self.reports = Reports(
            store=ctx.store, cache=ctx.cache, model=ctx.model, repo=self.repo, clock=ctx.clock, sealer=ctx.sealer
        )
        self.session = HotSession(ctx.cache)
        self.product = ctx.product
        self.ratings = Ratings(ctx.store, ctx.clock, ctx.sealer or PlainSealer())
        self.background = ctx.background
        turn_options = TurnOptions(
            options.context_tokens, options.memory_every_turns, options.memories_in_prompt, options.turn_lease_s
        )
        self.pipeline = TurnPipeline(
            repo=self.repo,
            streams=ctx.streams,
            model=ctx.model,
            mode=mode,
            moderator=ctx.moderator,
            memory=self.memory,
            background=ctx.background,
            options=turn_options,
        )

    async def start(
        self, user_id: str, *, settings: Mapping[str, str | None] | None = None, coaching: bool = True
    ) -> Conversation:
        """A new conversation with the mode's validated settings (its defaults for those not given)."""
        validated = self.mode.settings(settings or {})
        conv = await self.repo.create(user_id, mode=self.mode.mode, settings=validated, coaching=coaching)
        self.product.session_started(mode=self.mode.mode, category=self.labels(conv).get("category", ""))
        return conv

    def labels(self, conv: Conversation) -> Mapping[str, str]:
        """The mode's bounded product-metric labels of ``conv`` (category, scenario; ModeBase.metric_labels)."""
        labels = getattr(self.mode, "metric_labels", None)
        return labels(conv) if callable(labels) else {}

    def check_line(self, message: str | None, *, conversation_id: str | None, client_message_id: str | None) -> None:
        """Refuse an empty or too long learner line, or one without its idempotency key."""
        if message is not None:
            if not message.strip():
                raise EmptyMessage()
            if len(message) > self.options.max_message_chars:
                raise MessageTooLong(extra={"max_chars": self.options.max_message_chars})
            if not client_message_id:
                raise InvalidInput("client_message_id is required with a message")
        elif conversation_id is not None:
            raise EmptyMessage()

    async def open_turn(
        self,
        user_id: str,
        *,
        conversation_id: str | None,
        message: str | None,
        client_message_id: str | None,
        settings: Mapping[str, str | None] | None = None,
        coaching: bool = True,
    ) -> tuple[Conversation, AsyncGenerator[TurnEvent, None]]:
        """Check the learner's line, find or start the conversation, and return the turn's events."""
        self.check_line(message, conversation_id=conversation_id, client_message_id=client_message_id)
        if conversation_id is None:
            conv = await self.start(user_id, settings=settings, coaching=coaching)
        else:
            conv = await self.conversation(user_id, conversation_id)
        return conv, self.turn(conv, text=message, client_message_id=client_message_id or "")

    async def conversation(self, user_id: str, conversation_id: str) -> Conversation:
        return await self.repo.get(user_id, conversation_id, mode=self.mode.mode)

    async def turn(
        self, conv: Conversation, *, text: str | None, client_message_id: str = ""
    ) -> AsyncGenerator[TurnEvent, None]:
        """One turn's events; ``text`` None lets the characters speak first (opening, or watch)."""
        # aclosing: closing this generator closes the pipeline at once, so a partial reply is stored now.
        async with aclosing(self.pipeline.run(conv, text=text, client_message_id=client_message_id)) as events:
            async for event in events:
                if isinstance(event, TurnDone) and not event.replayed:
                    await self.session.record_turn(conv.user_id, self.mode.mode, conv.id)
                    category = self.labels(conv).get("category", "")
                    self.product.turn(mode=self.mode.mode, category=category, simple=event.simple_mode)
                    for extra in await self.mode.extra_events(conv, event):
                        yield extra
                yield event

    async def active(self, user_id: str) -> tuple[Conversation | None, SessionSource]:
        """The conversation to resume and where the pointer came from (``cache`` or ``store``).

        The hot session names it without a query (and its TTL slides); when Redis is down, the key
        expired or it points at a deleted conversation, the newest conversation in the store is used
        and the pointer is written back.
        """
        mode = self.mode.mode
        pointer = (await self.session.read(user_id)).get(f"active_{mode}")
        if isinstance(pointer, str):
            try:
                conv = await self.conversation(user_id, pointer)
            except ConversationNotFound:
                await self.session.forget(user_id, mode, pointer)
            else:
                await self.session.touch(user_id)
                return conv, "cache"
        newest = await self.repo.list_recent(user_id, limit=1, mode=mode)
        if not newest:
            return None, "store"
        await self.session.remember_active(user_id, mode, newest[0].id)
        return newest[0], "store"

    async def conversations(self, user_id: str, *, limit: int, offset: int) -> Page[Conversation]:
        async def fetch(n: int, skip: int) -> list[Conversation]:
            return await self.repo.list_recent(user_id, limit=n, offset=skip, mode=self.mode.mode)

        return await page(fetch, limit=limit, offset=offset)

    async def messages(self, conv: Conversation, *, limit: int, offset: int) -> Page[Message]:
        async def fetch(n: int, skip: int) -> list[Message]:
            return await self.repo.messages(conv, limit=n, offset=skip)

        return await page(fetch, limit=limit, offset=offset)

    async def delete(self, user_id: str, conversation_id: str) -> None:
        """Delete the conversation with its messages, reports, cached reports and stream buffers."""
        conv = await self.conversation(user_id, conversation_id)
        messages = await self.repo.messages(conv)
        await self.reports.forget(conv, messages)
        await self.repo.delete(user_id, conversation_id)
        await self.session.forget(user_id, self.mode.mode, conversation_id)
        await self.ctx.streams.drop(sorted({m.turn_id for m in messages if m.turn_id}))

    async def summary(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        conv = await self.conversation(user_id, conversation_id)
        self.product.report_requested(mode=self.mode.mode, kind="summary")
        # A watch run is reviewed even if the learner only watched (the feedback report grades the learner).
        watched = self.mode.mode == Mode.WATCH.value
        return await self.reports.summary(conv, rank=counterpart_rank(self.mode, conv), learner_needed=not watched)

    async def stored_summary(self, user_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The summary made earlier, read back without a model call (None if there is none yet)."""
        return await self.reports.stored_summary(await self.conversation(user_id, conversation_id))

    async def stored_feedback(self, user_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The newest feedback report made earlier, read back without a model call (None if none yet)."""
        return await self.reports.stored_feedback(await self.conversation(user_id, conversation_id))

    async def feedback(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        """The six-axis report; asking for it also ends the session's memory window."""
        conv = await self.conversation(user_id, conversation_id)
        self.product.report_requested(mode=self.mode.mode, kind="feedback")
        first = await self.reports.stored_feedback(conv) is None
        report = await self.reports.feedback(conv, rank=counterpart_rank(self.mode, conv))
        if not report.get("cached"):
            self.background.spawn(self.pipeline.extract_memories(conv), name="memory_extraction")
            if first:
                category = self.labels(conv).get("category", "")
                self.product.session_completed(mode=self.mode.mode, category=category, turns=conv.turn_count)
        return report

    async def memories(self, user_id: str) -> list[Memory]:
        return await self.memory.list_all(user_id)

    async def forget_memory(self, user_id: str, memory_id: str) -> None:
        if not await self.memory.delete(user_id, memory_id):
            raise MemoryNotFound()

    async def fork(self, user_id: str, conversation_id: str, *, at_turn: int) -> Conversation:
        """A new conversation continuing from before learner turn ``at_turn`` (「この発言からやり直す」)."""
        forked = await forks.fork(self.repo, await self.conversation(user_id, conversation_id), at_turn=at_turn)
        self.product.fork(mode=self.mode.mode)
        return forked

    async def family(self, user_id: str, conversation_id: str) -> list[forks.FamilyMember]:
        """The conversation's fork family (root first), each with its stored feedback report."""
        return await forks.family(self.repo, self.reports, await self.conversation(user_id, conversation_id))

    async def rate(
        self,
        user_id: str,
        conversation_id: str,
        *,
        target: RatingTarget,
        target_id: str,
        value: str,
        reason: str | None,
    ) -> Rating:
        """👍/👎 (``up``/``down``) on one of the conversation's replies or reports, with an optional reason."""
        checked, text = check_rating(value, reason)
        conv = await self.conversation(user_id, conversation_id)
        rating = await self.ratings.rate(conv, target, target_id, checked, text)
        labels = self.labels(conv)
        self.product.rating(
            mode=self.mode.mode,
            category=labels.get("category", ""),
            scenario=labels.get("scenario", ""),
            model=rating.model,
            target=target,
            value=checked,
        )
        return rating

    async def ratings_of(self, user_id: str, conversation_id: str) -> list[Rating]:
        return await self.ratings.of(await self.conversation(user_id, conversation_id))

    def count_hint(self, conv: Conversation) -> None:
        """A mode showed a hint the learner asked for (scenario, watch: call it from the hint route)."""
        self.product.hint_used(mode=self.mode.mode, category=self.labels(conv).get("category", ""))

    def count_quiz_answer(self, conv: Conversation, *, correct: bool) -> None:
        """A mode checked one quiz answer (call it where the answer is judged)."""
        category = self.labels(conv).get("category", "")
        self.product.quiz_answered(mode=self.mode.mode, category=category, correct=correct)
