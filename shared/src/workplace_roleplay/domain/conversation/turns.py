"""The one turn pipeline every mode shares (docs/architecture.md, "One turn"; ADR 0012).

persist the learner's line (if any) -> for each responding character: build its prompt (brief,
recent turns, rolling summary, memories), stream its line, persist it -> analyse the learner's line.

``TurnPipeline.run`` is a typed async generator of ``TurnEvent`` values; only the web layer speaks SSE.
Run it in its own task: when that task is cancelled (the client left) the text generated so far is
stored as ``partial`` before the cancellation propagates, and a model failure stores ``partial`` or
``failed`` and ends with ``TurnFailed`` so the conversation stays usable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from workplace_roleplay import telemetry
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.coaching.turn_coach import analyse_line
from workplace_roleplay.domain.conversation import context_window
from workplace_roleplay.domain.conversation import summaries as rolling_summary
from workplace_roleplay.domain.conversation.events import (
    AnalysisReady,
    LineDone,
    LineStarted,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
    error_for_code,
)
from workplace_roleplay.domain.conversation.lines import LineResult, LineWriter, counterpart_key
from workplace_roleplay.domain.conversation.mode import ConversationMode, counterpart_rank
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
from workplace_roleplay.domain.conversation.replays import (
    check_same_line,
    done_event,
    replay_events,
    replies_of,
    settle_abandoned,
)
from workplace_roleplay.domain.conversation.turn_lease import HeldLease, TurnLeases
from workplace_roleplay.domain.memory.book import MemoryBook
from workplace_roleplay.errors import AlreadyExists, AppError, TurnInProgress
from workplace_roleplay.ports.model import LanguageModel
from workplace_roleplay.ports.streams import StreamBuffers


@dataclass(frozen=True, slots=True)
class TurnOptions:
    """Knobs of the pipeline (from the service's settings)."""

    context_tokens: int = 6000
    memory_every_turns: int = 4
    memories_in_prompt: int = 3
    lease_s: float = 10.0  # one turn at a time per conversation (turn_lease.py, ADR 0010)


@dataclass
class _Spoken:
    """The lines of a turn so far: the transcript each next character sees, the first window, the last line."""

    seen: list[Message]
    window: context_window.Window | None = None
    reply: Message | None = None
    ended: bool = False
    coach: Callable[[], asyncio.Task[dict[str, Any] | None]] | None = None  # starts the learner line's analysis
    analysis: asyncio.Task[dict[str, Any] | None] | None = None
    held: HeldLease | None = None  # the turn's lease, cleared with the turn's counters when nothing else waits


class TurnPipeline:
    """Runs turns of conversations of one mode."""

    def __init__(
        self,
        *,
        repo: ConversationRepository,
        streams: StreamBuffers,
        model: LanguageModel,
        mode: ConversationMode,
        moderator: Moderator,
        memory: MemoryBook | None,
        background: BackgroundWork,
        options: TurnOptions | None = None,
    ) -> None:
        self.repo, self.model, self.mode, self.moderator = repo, model, mode, moderator
        self.memory, self.background = memory, background
        self.options = options or TurnOptions()
        self.streams = streams
        self.leases = TurnLeases(repo.store, repo.clock, lease_s=self.options.lease_s)
        self.lines = LineWriter(
            repo=repo,
            model=model,
            mode=mode,
            memory=memory,
            context_tokens=self.options.context_tokens,
            memories_in_prompt=self.options.memories_in_prompt,
        )

    def _multi(self, conv: Conversation) -> bool:
        return len(self.mode.cast(conv).characters) > 1

    async def run(
        self, conv: Conversation, *, text: str | None, client_message_id: str = ""
    ) -> AsyncGenerator[TurnEvent, None]:
        """One turn. ``text`` None: the characters speak without a learner line (the opening, or watch).

        A line sent before is answered from the store; anything else runs under the conversation's turn
        lease (one turn at a time; ADR 0010), taken before the learner's line is stored.
        """
        turn_id = turn_id_for(conv.id, client_message_id)
        learner: Message | None = None
        if text is not None:
            learner = await self.repo.get_message(conv, learner_message_id(turn_id))
            if learner is not None:
                replay = await self._answered(conv, learner, text)
                if replay is not None:
                    telemetry.CONVERSATION_TURNS.labels(conv.mode, "replayed").inc()
                    for event in replay:
                        yield event
                    return
        lease, doc = await self.leases.acquire(conv, turn_id)
        async with self.leases.held(conv, lease) as held:
            self.repo.refresh(conv, doc)
            async with aclosing(self._leased(conv, turn_id, text, client_message_id, learner, held)) as events:
                async for event in events:
                    if isinstance(event, TurnDone | TurnFailed):
                        await held.release()  # the conversation is free once the learner reads the end
                    yield event

    async def _answered(self, conv: Conversation, learner: Message, text: str) -> list[TurnEvent] | None:
        """The events answering a repeated line from the store, or None to run it (again) under the lease."""
        check_same_line(learner, text)
        if await self.leases.running(conv) == learner.turn_id:
            raise TurnInProgress(extra={"turn_id": learner.turn_id})
        replies = replies_of(await self.repo.messages(conv), learner.turn_id)
        if not replies or any(r.status is MessageStatus.FAILED for r in replies):
            return None
        return replay_events(conv, learner, replies, multi=self._multi(conv))

    async def _leased(
        self,
        conv: Conversation,
        turn_id: str,
        text: str | None,
        client_message_id: str,
        learner: Message | None,
        held: HeldLease,
    ) -> AsyncGenerator[TurnEvent, None]:
        history = await self.repo.messages(conv)
        if learner is not None:
            # Sent before and not answered: abandoned by a dead instance, or failed. Keep what was streamed.
            replies = replies_of(history, turn_id)
            speakers = self.mode.responders(conv, learner_spoke=True)
            settled = None if replies else await settle_abandoned(self.repo, self.streams, conv, learner, speakers)
            if settled is not None:
                telemetry.CONVERSATION_TURNS.labels(conv.mode, "abandoned").inc()
                for event in replay_events(conv, learner, [settled], multi=self._multi(conv)):
                    yield event
                return
            history = [m for m in history if m.id != learner.id]
        elif text is not None:
            learner = await self._take_learner_line(conv, turn_id, text, client_message_id, history)
        yield TurnStarted(conv.id, turn_id, learner.id if learner else None)
        nudge = learner.notice if learner else ""
        async with aclosing(self._generate(conv, turn_id, history, learner, nudge, held)) as events:
            async for event in events:
                yield event

    async def _take_learner_line(
        self, conv: Conversation, turn_id: str, text: str, client_message_id: str, history: Sequence[Message]
    ) -> Message:
        """Moderate and store the learner's line; storing it with ``create`` is the idempotency check."""
        previous = [m.text for m in history if m.role is Role.LEARNER]
        verdict = self.moderator.check(text, previous_learner_lines=previous, topic=conv.settings.get("topic", ""))
        if verdict.reason:
            telemetry.MODERATION_DECISIONS.labels(conv.mode, verdict.reason).inc()
        self.moderator.raise_if_blocked(verdict)
        learner = Message(
            id=learner_message_id(turn_id),
            role=Role.LEARNER,
            text=text,
            created_at=self.repo.clock.now(),
            turn_id=turn_id,
            speaker="learner",
            client_message_id=client_message_id,
            notice=verdict.nudge,
        )
        try:
            await self.repo.add_new(conv, learner)
        except AlreadyExists:
            # The same client message raced in on another request: that one answers it.
            raise TurnInProgress(extra={"turn_id": turn_id}) from None
        return learner

    async def _generate(
        self,
        conv: Conversation,
        turn_id: str,
        history: Sequence[Message],
        learner: Message | None,
        nudge: str,
        held: HeldLease | None = None,
    ) -> AsyncGenerator[TurnEvent, None]:
        spoken = _Spoken(seen=list(history), held=held)
        if learner is not None and conv.coaching:
            # Coaching runs beside the replies (started once the first prompt is built, so the memory
            # recall goes first) and never delays the first reply token.
            spoken.coach = lambda: asyncio.create_task(self._analyse(conv, learner, history))
        try:
            async with aclosing(self._speak(conv, turn_id, learner, spoken)) as events:
                async for event in events:
                    yield event
            if spoken.ended or spoken.reply is None or spoken.window is None:
                return
            await self._after_turn(conv, learner, spoken.window, spoken)
            if spoken.analysis is not None and learner is not None:
                analysis, spoken.analysis = await spoken.analysis, None
                if analysis is not None:
                    yield AnalysisReady(learner.id, analysis)
            yield done_event(conv, turn_id, learner, spoken.reply, nudge=nudge)
        finally:
            if spoken.analysis is not None and not spoken.analysis.done():
                spoken.analysis.cancel()

    async def _speak(
        self, conv: Conversation, turn_id: str, learner: Message | None, spoken: _Spoken
    ) -> AsyncGenerator[TurnEvent, None]:
        """Each responding character's line in turn; ``spoken.ended`` when one failed (turn over)."""
        multi = self._multi(conv)
        for index, speaker in enumerate(self.mode.responders(conv, learner_spoke=learner is not None)):
            request, fitted = await self.lines.build_request(conv, spoken.seen, learner, speaker)
            spoken.window = spoken.window or fitted
            if spoken.coach is not None and spoken.analysis is None:
                spoken.analysis = spoken.coach()
            out, reply_id = LineResult(), reply_message_id(turn_id, index)
            if multi:
                yield LineStarted(reply_id, speaker.name)
            async with aclosing(self.lines.write(conv, request, reply_id, speaker, out)) as tokens:
                async for event in tokens:
                    yield event
            if out.error is not None:
                spoken.ended = True
                text = "".join(out.received)
                yield self._failed(conv, turn_id, learner, out.error, reply_id if text else None, text)
                return
            if out.reply is None:
                raise RuntimeError("LineWriter.write ended without a reply or an error")
            spoken.reply = out.reply
            spoken.seen.append(out.reply)
            if multi:
                yield LineDone(out.reply.id, speaker.name, out.reply.text, out.reply.status.value)
            if out.broken_off:
                # The model broke off mid-line: keep what arrived, tell the learner, stay usable.
                spoken.ended = True
                await self._after_turn(conv, learner, spoken.window, spoken)
                kept = out.reply.id if out.reply.text else None
                yield self._failed(conv, turn_id, learner, out.broken_off, kept, out.reply.text)
                return

    @staticmethod
    def _failed(
        conv: Conversation,
        turn_id: str,
        learner: Message | None,
        error: AppError | str,
        reply_id: str | None,
        text: str,
    ) -> TurnFailed:
        if isinstance(error, str):
            error = error_for_code(error)()
        return TurnFailed(
            conv.id, turn_id, error.code, error.message_ja, learner.id if learner else None, reply_id, text
        )

    async def _after_turn(
        self, conv: Conversation, learner: Message | None, window: context_window.Window, spoken: _Spoken
    ) -> None:
        if spoken.held is not None and spoken.analysis is None:
            # Nothing else of the turn waits (no coaching analysis): the lease is cleared in the same
            # transaction as the counters, one store transaction per turn fewer (ADR 0030).
            await spoken.held.finish(lambda clearing: self.repo.finish_turn(conv, learner=learner, also=clearing))
        else:
            await self.repo.finish_turn(conv, learner=learner)
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
        for speaker in self.mode.cast(conv).characters:
            await self.memory.extract(conv, messages, counterpart=counterpart_key(self.mode, speaker))

    async def _analyse(self, conv: Conversation, learner: Message, history: Sequence[Message]) -> dict[str, Any] | None:
        return await analyse_line(
            model=self.model,
            repo=self.repo,
            conv=conv,
            learner=learner,
            history=history,
            rank=counterpart_rank(self.mode, conv),
            hints=self.mode.hints(conv),
        )
