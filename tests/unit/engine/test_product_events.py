"""The engine counts what learners do through the product-events port, with the mode's labels: every mode
gets sessions, turns, reports, forks and ratings for free; hints and quizzes are one call each for a mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.support.engine import engine
from tests.support.fakes import FakeCache, FakeStore
from tests.unit.engine.harness import CountingModel
from tests.unit.engine.toy_mode import MeetingMode
from workplace_roleplay.domain.conversation.records import Conversation, Role
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.errors import InvalidInput, MessageNotFound


class RecordingEvents:
    """The port, recording each call as (name, labels)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(**labels: Any) -> None:
            self.calls.append((name, labels))

        return record

    def named(self, name: str) -> list[dict[str, Any]]:
        return [labels for called, labels in self.calls if called == name]


class CategorisedMeeting(MeetingMode):
    """A mode with a scenario category and id (what scenario mode supplies)."""

    def metric_labels(self, conv: Conversation) -> Mapping[str, str]:
        return {"category": "customer_service", "scenario": "meeting_01"}


def service_with(events: RecordingEvents) -> ConversationService:
    svc = engine(FakeStore(), FakeCache(), CountingModel(), mode=CategorisedMeeting())
    svc.product = events
    return svc


async def drain(svc: ConversationService, conv: Conversation, text: str | None, cmid: str) -> None:
    async for _ in svc.turn(conv, text=text, client_message_id=cmid):
        pass


async def test_sessions_turns_reports_forks_hints_quizzes_and_ratings_are_counted_with_labels() -> None:
    events = RecordingEvents()
    svc = service_with(events)
    conv = await svc.start("u1")
    await drain(svc, conv, None, "open")
    conv = await svc.conversation("u1", conv.id)
    await drain(svc, conv, "進捗を報告します。", "t1")
    await drain(svc, await svc.conversation("u1", conv.id), "来週までに仕上げます。", "t2")
    labels = {"mode": "toy_meeting", "category": "customer_service"}
    assert events.named("session_started") == [labels]
    assert events.named("turn") == [{**labels, "simple": True}] * 3

    await svc.summary("u1", conv.id)
    report = await svc.feedback("u1", conv.id)
    await svc.feedback("u1", conv.id)  # cached: requested again, completed once
    assert [c["kind"] for c in events.named("report_requested")] == ["summary", "feedback", "feedback"]
    assert events.named("session_completed") == [{**labels, "turns": 2}]

    await svc.fork("u1", conv.id, at_turn=2)
    assert events.named("fork") == [{"mode": "toy_meeting"}]
    assert events.named("session_started") == [labels]  # a fork is not a new session start

    svc.count_hint(conv)
    svc.count_quiz_answer(conv, correct=True)
    svc.count_quiz_answer(conv, correct=False)
    assert events.named("hint_used") == [labels]
    assert events.named("quiz_answered") == [{**labels, "correct": True}, {**labels, "correct": False}]

    replies = [m.id for m in await svc.repo.messages(conv) if m.role is Role.COUNTERPART]
    reply = await svc.rate("u1", conv.id, target="reply", target_id=replies[-1], value="down", reason="  ちょっと硬い ")
    assert reply.reason == "ちょっと硬い"
    await svc.rate("u1", conv.id, target="report", target_id=report["report_id"], value="up", reason=None)
    rated = events.named("rating")
    assert [(r["target"], r["value"], r["scenario"], r["category"]) for r in rated] == [
        ("reply", "down", "meeting_01", "customer_service"),
        ("report", "up", "meeting_01", "customer_service"),
    ]
    assert all(r["model"] for r in rated)
    assert [(r.target, r.value) for r in await svc.ratings_of("u1", conv.id)] == [("reply", "down"), ("report", "up")]


async def test_ratings_refuse_the_learners_own_line_bad_values_and_long_reasons() -> None:
    svc = service_with(RecordingEvents())
    conv = await svc.start("u1")
    await drain(svc, conv, "おはようございます。", "t1")
    lines = await svc.repo.messages(conv)
    own = next(m.id for m in lines if m.role is Role.LEARNER)
    reply = next(m.id for m in lines if m.role is Role.COUNTERPART)
    with pytest.raises(MessageNotFound):
        await svc.rate("u1", conv.id, target="reply", target_id=own, value="up", reason=None)
    with pytest.raises(MessageNotFound):
        await svc.rate("u1", conv.id, target="reply", target_id="nope", value="up", reason=None)
    with pytest.raises(InvalidInput):
        await svc.rate("u1", conv.id, target="reply", target_id=reply, value="meh", reason=None)
    with pytest.raises(InvalidInput):
        await svc.rate("u1", conv.id, target="reply", target_id=reply, value="up", reason="長" * 201)
