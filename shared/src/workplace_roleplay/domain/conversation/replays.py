"""A turn sent again: answered from the store, or settled from its stream buffer when it was abandoned.

A client message id names one learner line (docs/architecture.md, "One turn"): sent again with the
same text it is answered from the stored lines without a model call; with other text it is refused
(``IdempotencyConflict``). A turn whose instance died (its lease expired, ADR 0010) keeps what it had
streamed: the text in its sealed replay buffer becomes the turn's ``partial`` reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from workplace_roleplay.domain.conversation.cast import Participant
from workplace_roleplay.domain.conversation.events import (
    AnalysisReady,
    LineDone,
    LineStarted,
    Token,
    TurnDone,
    TurnEvent,
    TurnStarted,
)
from workplace_roleplay.domain.conversation.records import (
    Conversation,
    ConversationRepository,
    Message,
    MessageStatus,
    Role,
    reply_message_id,
)
from workplace_roleplay.errors import IdempotencyConflict
from workplace_roleplay.ports.streams import StreamBuffers


def check_same_line(learner: Message, text: str) -> None:
    """Refuse a repeated client message id that carries other text."""
    if learner.text != text:
        raise IdempotencyConflict(extra={"turn_id": learner.turn_id})


def replies_of(history: Sequence[Message], turn_id: str) -> list[Message]:
    return [m for m in history if m.turn_id == turn_id and m.role is Role.COUNTERPART]


def done_event(
    conv: Conversation, turn_id: str, learner: Message | None, reply: Message, *, nudge: str, replayed: bool = False
) -> TurnDone:
    """The ``done`` event of a turn whose last line is ``reply``."""
    return TurnDone(
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
        replayed=replayed,
    )


def replay_events(conv: Conversation, learner: Message, replies: Sequence[Message], *, multi: bool) -> list[TurnEvent]:
    """The events of a stored turn, in the order they were first sent (one token per line)."""
    events: list[TurnEvent] = [TurnStarted(conv.id, learner.turn_id, learner.id, replayed=True)]
    for reply in replies:
        events += [LineStarted(reply.id, reply.speaker)] if multi else []
        events.append(Token(reply.text))
        events += [LineDone(reply.id, reply.speaker, reply.text, reply.status.value)] if multi else []
    if learner.analysis:
        events.append(AnalysisReady(learner.id, learner.analysis))
    events.append(done_event(conv, learner.turn_id, learner, replies[-1], nudge=learner.notice, replayed=True))
    return events


async def settle_abandoned(
    repo: ConversationRepository,
    streams: StreamBuffers,
    conv: Conversation,
    learner: Message,
    speakers: Sequence[Participant],
) -> Message | None:
    """Store what an abandoned turn had streamed as its partial reply (None: nothing was streamed)."""
    line = await streams.streamed(learner.turn_id, conv.user_id)
    if line is None or not line.text or line.index >= len(speakers):
        return None
    reply = Message(
        id=reply_message_id(learner.turn_id, line.index),
        role=Role.COUNTERPART,
        text=line.text,
        created_at=repo.clock.now(),
        turn_id=learner.turn_id,
        speaker=speakers[line.index].name,
        status=MessageStatus.PARTIAL,
    )
    await repo.save(conv, reply)
    await repo.finish_turn(conv, learner=learner)
    if not line.ended:
        done = {
            "conversation_id": conv.id,
            "turn_id": learner.turn_id,
            "learner_message_id": learner.id,
            "reply_message_id": reply.id,
            "text": reply.text,
            "status": reply.status.value,
            "interrupted": True,
        }
        await streams.close(learner.turn_id, conv.user_id, done)
    return reply
