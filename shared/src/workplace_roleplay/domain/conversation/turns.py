"""The one turn pipeline every mode shares (DESIGN §11).

persist the learner's line -> build the prompt (cast brief, recent turns, rolling summary, memories)
-> stream the counterpart's line -> persist it -> analyse the learner's line.

``TurnPipeline.run`` is a typed async generator of ``TurnEvent`` values; only the web layer speaks SSE.
Run it in its own task: when that task is cancelled (the client left) the text generated so far is
stored as ``partial`` before the cancellation propagates, and a model failure stores ``partial`` or
``failed`` and ends with ``TurnFailed`` so the conversation stays usable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from workplace_roleplay import telemetry
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching import analysis as coaching
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.conversation import context_window
from workplace_roleplay.domain.conversation import summaries as rolling_summary
from workplace_roleplay.domain.conversation.events import (
    AnalysisReady,
    Token,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
    error_for_code,
)
from workplace_roleplay.domain.conversation.prompts import Cast, counterpart_system
from workplace_roleplay.domain.conversation.records import (
    Conversation,
    ConversationRepository,
    Message,
    MessageStatus,
    Role,
    learner_message_id,
    reply_message_id,
    turn_id_for,
)
from workplace_roleplay.domain.memory.book import MemoryBook
from workplace_roleplay.errors import AlreadyExists, AppError, TurnInProgress
from workplace_roleplay.ports.model import (
    ChatMessage,
    Completion,
    GenerationMode,
    GenerationRequest,
    LanguageModel,
    ModelTask,
    TextDelta,
)

log = logging.getLogger("workplace_roleplay.turns")

# A learner line without a reply older than this is an abandoned turn (crashed instance): run it again.
STALE_TURN_S = 120.0
ANALYSIS_TIMEOUT_S = 20.0


@dataclass
class TurnOptions:
    """Knobs of the pipeline (from the service's settings)."""

    context_tokens: int = 6000
    memory_every_turns: int = 4
    memories_in_prompt: int = 3
    extras: dict[str, Any] = field(default_factory=dict)


def _status(completion: Completion, received: str) -> MessageStatus:
    if not completion.partial:
        return MessageStatus.COMPLETE
    return MessageStatus.PARTIAL if completion.text or received else MessageStatus.FAILED


class TurnPipeline:
    """Runs turns of conversations whose counterpart is described by ``cast``."""

    def __init__(
        self,
        *,
        repo: ConversationRepository,
        model: LanguageModel,
        cast: Cast,
        moderator: Moderator,
        memory: MemoryBook | None,
        background: BackgroundWork,
        options: TurnOptions | None = None,
    ) -> None:
        self.repo = repo
        self.model = model
        self.cast = cast
        self.moderator = moderator
        self.memory = memory
        self.background = background
        self.options = options or TurnOptions()

    def counterpart_key(self, conv: Conversation) -> str:
        return f"{self.cast.mode}:{self.cast.counterpart_name(conv)}"

    async def run(
        self, conv: Conversation, *, text: str | None, client_message_id: str = ""
    ) -> AsyncGenerator[TurnEvent, None]:
        """One turn. ``text`` None: the counterpart opens the conversation."""
        turn_id = turn_id_for(conv.id, client_message_id)
        history = await self.repo.messages(conv)
        learner: Message | None = None
        if text is not None:
            learner = await self.repo.get_message(conv, learner_message_id(turn_id))
            if learner is not None:
                replay = await self._replay(conv, learner)
                if replay is not None:
                    telemetry.CONVERSATION_TURNS.labels(conv.mode, "replayed").inc()
                    for event in replay:
                        yield event
                    return
                history = [m for m in history if m.id != learner.id]
            nudge = ""
            if learner is None:
                previous = [m.text for m in history if m.role is Role.LEARNER]
                verdict = self.moderator.check(
                    text, previous_learner_lines=previous, topic=conv.settings.get("topic", "")
                )
                if verdict.reason:
                    telemetry.MODERATION_DECISIONS.labels(conv.mode, verdict.reason).inc()
                self.moderator.raise_if_blocked(verdict)
                nudge = verdict.nudge
                learner = Message(
                    id=learner_message_id(turn_id),
                    role=Role.LEARNER,
                    text=text,
                    created_at=self.repo.clock.now(),
                    turn_id=turn_id,
                    speaker="learner",
                    client_message_id=client_message_id,
                    notice=nudge,
                )
                try:
                    await self.repo.add_new(conv, learner)
                except AlreadyExists:
                    # The same client message raced in on another request: that one answers it.
                    raise TurnInProgress(extra={"turn_id": turn_id}) from None
            else:
                nudge = learner.notice
        else:
            nudge = ""
        yield TurnStarted(conv.id, turn_id, learner.id if learner else None)
        async with aclosing(self._generate(conv, turn_id, history, learner, nudge)) as events:
            async for event in events:
                yield event

    async def _replay(self, conv: Conversation, learner: Message) -> list[TurnEvent] | None:
        """Events that answer a repeated client message from the store, or None to generate again."""
        reply = await self.repo.get_message(conv, reply_message_id(learner.turn_id))
        if reply is None:
            if self.repo.clock.now() - learner.created_at < STALE_TURN_S:
                raise TurnInProgress(extra={"turn_id": learner.turn_id})
            return None
        if reply.status is MessageStatus.FAILED:
            return None
        events: list[TurnEvent] = [
            TurnStarted(conv.id, learner.turn_id, learner.id),
            Token(reply.text),
        ]
        if learner.analysis:
            events.append(AnalysisReady(learner.id, learner.analysis))
        events.append(
            TurnDone(
                conversation_id=conv.id,
                turn_id=learner.turn_id,
                learner_message_id=learner.id,
                reply_message_id=reply.id,
                text=reply.text,
                model=reply.model,
                simple_mode=reply.simple_mode,
                status=reply.status.value,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                notice=reply.notice,
                nudge=learner.notice,
                replayed=True,
            )
        )
        return events

    async def build_request(
        self, conv: Conversation, history: Sequence[Message], learner: Message | None
    ) -> tuple[GenerationRequest, context_window.Window]:
        """The counterpart's generation request for the next line."""
        lines = [*history, learner] if learner else list(history)
        window = context_window.fit(lines, budget_tokens=self.options.context_tokens)
        memories: list[str] = []
        if self.memory is not None and learner is not None:
            memories = await self.memory.recall(
                conv.user_id,
                learner.text,
                counterpart=self.counterpart_key(conv),
                limit=self.options.memories_in_prompt,
            )
        system = counterpart_system(
            self.cast,
            conv,
            rolling_summary=conv.rolling_summary if window.older else "",
            memories=memories,
        )
        messages = [
            ChatMessage(role="user" if m.role is Role.LEARNER else "model", text=m.text, speaker=m.speaker)
            for m in window.recent
        ]
        if not messages or messages[0].role == "model":
            # The model expects the transcript to start with the user; the opening has no learner line.
            messages.insert(0, ChatMessage(role="user", text=self.cast.opening_instruction(conv)))
        hints = dict(self.cast.hints(conv))
        if learner is not None:
            hints["last_learner_line"] = learner.text
        request = GenerationRequest(
            task=ModelTask.CONVERSATION_TURN if learner else ModelTask.OPENING,
            system=system,
            messages=messages,
            hints=hints,
            user_id=conv.user_id,
        )
        return request, window

    async def _generate(
        self,
        conv: Conversation,
        turn_id: str,
        history: Sequence[Message],
        learner: Message | None,
        nudge: str,
    ) -> AsyncGenerator[TurnEvent, None]:
        request, window = await self.build_request(conv, history, learner)
        analysis_task: asyncio.Task[dict[str, Any] | None] | None = None
        if learner is not None and conv.coaching:
            # Coaching runs beside the reply so it never delays the first reply token.
            analysis_task = asyncio.create_task(self._analyse(conv, learner, history))
        received: list[str] = []
        completion: Completion | None = None
        try:
            try:
                stream = self.model.stream(request)
                try:
                    async for event in stream:
                        if isinstance(event, TextDelta):
                            received.append(event.text)
                            yield Token(event.text)
                        else:
                            completion = event
                finally:
                    # Closing the stream cancels the upstream call (the client left or we failed).
                    close = getattr(stream, "aclose", None)
                    if close is not None:
                        await close()
            except (asyncio.CancelledError, GeneratorExit):
                # Cancelled while waiting for the model, or closed while suspended at a yield.
                telemetry.CONVERSATION_TURNS.labels(conv.mode, "cancelled").inc()
                await self._store_broken(conv, turn_id, "".join(received))
                raise
            except AppError as exc:
                telemetry.CONVERSATION_TURNS.labels(conv.mode, "failed").inc()
                stored = await self._store_broken(conv, turn_id, "".join(received))
                yield TurnFailed(
                    conv.id,
                    turn_id,
                    exc.code,
                    exc.message_ja,
                    learner.id if learner else None,
                    stored,
                    "".join(received),
                )
                return
            if completion is None:  # a model adapter that broke the port's contract
                completion = Completion(text="".join(received), model="", mode=GenerationMode.MODEL, partial=True)
            reply = Message(
                id=reply_message_id(turn_id),
                role=Role.COUNTERPART,
                text=completion.text or "".join(received),
                created_at=self.repo.clock.now(),
                turn_id=turn_id,
                speaker=self.cast.counterpart_name(conv),
                status=_status(completion, "".join(received)),
                model=completion.model,
                simple_mode=completion.mode is GenerationMode.SIMPLE,
                input_tokens=completion.usage.input_tokens,
                output_tokens=completion.usage.output_tokens,
                notice=completion.notice,
            )
            await self.repo.save(conv, reply)
            telemetry.CONVERSATION_TURNS.labels(conv.mode, reply.status.value).inc()
            await self._after_turn(conv, learner, window)
            if completion.partial and completion.error_code:
                # The model broke off mid-stream: keep what arrived, tell the learner, stay usable.
                error = error_for_code(completion.error_code)
                yield TurnFailed(
                    conv.id,
                    turn_id,
                    error.code,
                    error.message_ja,
                    learner.id if learner else None,
                    reply.id if reply.text else None,
                    reply.text,
                )
                return
            if analysis_task is not None and learner is not None:
                analysis = await analysis_task
                analysis_task = None
                if analysis is not None:
                    yield AnalysisReady(learner.id, analysis)
            yield TurnDone(
                conversation_id=conv.id,
                turn_id=turn_id,
                learner_message_id=learner.id if learner else None,
                reply_message_id=reply.id,
                text=reply.text,
                model=reply.model,
                simple_mode=reply.simple_mode,
                status=reply.status.value,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                notice=reply.notice,
                nudge=nudge,
            )
        finally:
            if analysis_task is not None and not analysis_task.done():
                analysis_task.cancel()

    async def _store_broken(self, conv: Conversation, turn_id: str, text: str) -> str | None:
        """Store what arrived as ``partial`` (or a ``failed`` marker); returns the reply id if text was kept."""
        status = MessageStatus.PARTIAL if text else MessageStatus.FAILED
        await self.repo.save(
            conv,
            Message(
                id=reply_message_id(turn_id),
                role=Role.COUNTERPART,
                text=text,
                created_at=self.repo.clock.now(),
                turn_id=turn_id,
                speaker=self.cast.counterpart_name(conv),
                status=status,
            ),
        )
        await self.repo.update(conv)
        return reply_message_id(turn_id) if text else None

    async def _after_turn(self, conv: Conversation, learner: Message | None, window: context_window.Window) -> None:
        fields: dict[str, Any] = {"turn_count": conv.turn_count + (1 if learner else 0)}
        if learner is not None and not conv.title:
            fields["title"] = learner.text.strip().replace("\n", " ")[:30]
        await self.repo.update(conv, **fields)
        if context_window.needs_summary(window, conv.summary_through):
            self.background.spawn(
                rolling_summary.refresh(self.repo, self.model, conv, window.older), name="rolling_summary"
            )
        every = self.options.memory_every_turns
        if self.memory is not None and learner is not None and every > 0 and conv.turn_count % every == 0:
            self.background.spawn(self.extract_memories(conv), name="memory_extraction")

    async def extract_memories(self, conv: Conversation) -> None:
        if self.memory is None:
            return
        messages = await self.repo.messages(conv)
        await self.memory.extract(conv, messages, counterpart=self.counterpart_key(conv))

    async def _analyse(self, conv: Conversation, learner: Message, history: Sequence[Message]) -> dict[str, Any] | None:
        """The coaching card of ``learner``, stored on the message; None if it could not be made in time."""
        rank = self.cast.partner_rank(conv)
        previous = next((m.text for m in reversed(history) if m.role is Role.COUNTERPART), "")
        messages = [ChatMessage(role="user", text=f"相手の直前の発言: {previous}\n学習者の発言: {learner.text}")]
        request = GenerationRequest(
            task=ModelTask.TURN_ANALYSIS,
            system=coaching.coach_system(rank),
            messages=messages,
            temperature=0.0,
            hints={**self.cast.hints(conv), "last_learner_line": learner.text, "partner_rank": rank},
            user_id=conv.user_id,
        )
        try:
            result = await asyncio.wait_for(
                self.model.generate_structured(request, coaching.TurnAnalysis), ANALYSIS_TIMEOUT_S
            )
        except Exception as exc:  # coaching is an extra: any failure falls back to the rule-based card
            log.warning("turn analysis fell back to rules", extra={"error": type(exc).__name__})
            payload = coaching.analysis_payload(
                coaching.rule_based_analysis(learner.text, rank), simple_mode=True, model=""
            )
        else:
            simple = result.completion.mode is GenerationMode.SIMPLE
            value = coaching.rule_based_analysis(learner.text, rank) if simple else result.value
            payload = coaching.analysis_payload(value, simple_mode=simple, model=result.completion.model)
        await self.repo.set_analysis(conv, learner.id, payload)
        return payload
