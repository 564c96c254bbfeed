"""One character's line of a turn: build its request ("this speaker" against "the others"), stream
it, store it (``partial``/``failed`` when the stream breaks or the client leaves)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from workplace_roleplay import telemetry
from workplace_roleplay.domain.conversation import context_window
from workplace_roleplay.domain.conversation.cast import Participant
from workplace_roleplay.domain.conversation.events import Token, TurnEvent
from workplace_roleplay.domain.conversation.mode import ConversationMode
from workplace_roleplay.domain.conversation.prompts import counterpart_system
from workplace_roleplay.domain.conversation.records import (
    Conversation,
    ConversationRepository,
    Message,
    MessageStatus,
    Role,
)
from workplace_roleplay.domain.memory.book import MemoryBook
from workplace_roleplay.errors import AppError
from workplace_roleplay.ports.model import (
    ChatMessage,
    Completion,
    GenerationMode,
    GenerationRequest,
    LanguageModel,
    ModelTask,
    TextDelta,
)


@dataclass
class LineResult:
    """What writing one line left behind: the stored reply, or the error that broke it off."""

    reply: Message | None = None
    error: AppError | None = None
    broken_off: str = ""  # the model's error code when it broke off mid-line (the text so far is stored)
    received: list[str] = field(default_factory=list)


def counterpart_key(mode: ConversationMode, speaker: Participant) -> str:
    """Whose memories a character recalls (``{mode}:{name}``)."""
    return f"{mode.mode}:{speaker.name}"


def _status(completion: Completion, received: str) -> MessageStatus:
    if not completion.partial:
        return MessageStatus.COMPLETE
    return MessageStatus.PARTIAL if completion.text or received else MessageStatus.FAILED


def render_messages(lines: Sequence[Message], speaker: Participant, *, multi: bool) -> list[ChatMessage]:
    """The transcript as ``speaker`` sees it: its own lines as the model's, everyone else's as the user's
    (named, when more than one character speaks)."""
    rendered = []
    for m in lines:
        if m.role is Role.COUNTERPART and m.speaker == speaker.name:
            rendered.append(ChatMessage(role="model", text=m.text, speaker=m.speaker))
        elif multi:
            who = "学習者" if m.role is Role.LEARNER else m.speaker
            rendered.append(ChatMessage(role="user", text=f"{who}: {m.text}", speaker=m.speaker))
        else:
            rendered.append(ChatMessage(role="user", text=m.text, speaker=m.speaker))
    return rendered


class LineWriter:
    """Generates and stores the lines of one mode's characters."""

    def __init__(
        self,
        *,
        repo: ConversationRepository,
        model: LanguageModel,
        mode: ConversationMode,
        memory: MemoryBook | None,
        context_tokens: int,
        memories_in_prompt: int,
    ) -> None:
        self.repo, self.model, self.mode, self.memory = repo, model, mode, memory
        self.context_tokens, self.memories_in_prompt = context_tokens, memories_in_prompt

    async def build_request(
        self, conv: Conversation, history: Sequence[Message], learner: Message | None, speaker: Participant
    ) -> tuple[GenerationRequest, context_window.Window]:
        """``speaker``'s generation request for its next line."""
        lines = [*history, learner] if learner else list(history)
        window = context_window.fit(lines, budget_tokens=self.context_tokens)
        memories: list[str] = []
        if self.memory is not None and learner is not None:
            memories = await self.memory.recall(
                conv.user_id,
                learner.text,
                counterpart=counterpart_key(self.mode, speaker),
                limit=self.memories_in_prompt,
            )
        summary = conv.rolling_summary if window.older else ""
        system = counterpart_system(self.mode, conv, speaker, rolling_summary=summary, memories=memories)
        multi = len(self.mode.cast(conv).characters) > 1
        messages = render_messages(window.recent, speaker, multi=multi)
        if not messages or messages[0].role == "model":
            # The model expects the transcript to start with the user; the opening has no learner line.
            messages.insert(0, ChatMessage(role="user", text=self.mode.opening_instruction(conv, speaker)))
        hints = dict(self.mode.hints(conv))
        if multi:
            hints["speaker"] = speaker.name
        if learner is not None:
            hints["last_learner_line"] = learner.text
        task = ModelTask.CONVERSATION_TURN if learner else ModelTask.OPENING
        request = GenerationRequest(task=task, system=system, messages=messages, hints=hints, user_id=conv.user_id)
        return request, window

    async def write(
        self, conv: Conversation, request: GenerationRequest, reply_id: str, speaker: Participant, out: LineResult
    ) -> AsyncGenerator[TurnEvent, None]:
        """Stream one line as ``Token`` events and store it; ``out`` says how it ended."""
        completion: Completion | None = None
        try:
            stream = self.model.stream(request)
            try:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        out.received.append(event.text)
                        yield Token(event.text)
                    else:
                        completion = event
            finally:
                # Closing the stream cancels the upstream call (the client left or we failed).
                await stream.aclose()
        except (asyncio.CancelledError, GeneratorExit):
            # Cancelled while waiting for the model, or closed while suspended at a yield.
            telemetry.CONVERSATION_TURNS.labels(conv.mode, "cancelled").inc()
            await self.store_broken(conv, reply_id, speaker, "".join(out.received))
            raise
        except AppError as exc:
            telemetry.CONVERSATION_TURNS.labels(conv.mode, "failed").inc()
            out.error = exc
            await self.store_broken(conv, reply_id, speaker, "".join(out.received))
            return
        out.reply = await self._store(conv, reply_id, speaker, completion, out)

    async def _store(
        self, conv: Conversation, reply_id: str, speaker: Participant, completion: Completion | None, out: LineResult
    ) -> Message:
        received = "".join(out.received)
        if completion is None:  # a model adapter that broke the port's contract
            completion = Completion(text=received, model="", mode=GenerationMode.MODEL, partial=True)
        reply = Message(
            id=reply_id,
            role=Role.COUNTERPART,
            text=completion.text or received,
            created_at=self.repo.clock.now(),
            turn_id=reply_id.rsplit("-", 1)[0],
            speaker=speaker.name,
            status=_status(completion, received),
            model=completion.model,
            simple_mode=completion.mode is GenerationMode.SIMPLE,
            input_tokens=completion.usage.input_tokens,
            output_tokens=completion.usage.output_tokens,
            notice=completion.notice,
        )
        await self.repo.save(conv, reply)
        telemetry.CONVERSATION_TURNS.labels(conv.mode, reply.status.value).inc()
        if completion.partial and completion.error_code:
            out.broken_off = completion.error_code
        return reply

    async def store_broken(self, conv: Conversation, reply_id: str, speaker: Participant, text: str) -> str | None:
        """Store what arrived as ``partial`` (or a ``failed`` marker); returns the reply id if text was kept."""
        status = MessageStatus.PARTIAL if text else MessageStatus.FAILED
        turn_id = reply_id.rsplit("-", 1)[0]
        broken = Message(
            id=reply_id,
            role=Role.COUNTERPART,
            text=text,
            created_at=self.repo.clock.now(),
            turn_id=turn_id,
            speaker=speaker.name,
            status=status,
        )
        await self.repo.save(conv, broken)
        await self.repo.update(conv)
        return reply_id if text else None
