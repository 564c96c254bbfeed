"""Playing a scenario on the conversation engine: sessions behind the consent gate, hints, reports, compare.

Every use case that reaches a scenario through a session resolves the session's scenario and calls
``ScenarioAccess.require_consent`` first (the one gate, ADR 0015). Hints live on the conversation document
(``scenario_hints``) so they leave with it; reports at ``users/{uid}/scenario_reports/{cid}``, sealed, one
per session (the newest), readable without a model call (ADR 0029).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from workplace_roleplay.domain.conversation.records import Conversation, Role
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog
from workplace_roleplay.domain.scenario.consent import ScenarioAccess
from workplace_roleplay.domain.scenario.hints import hint_for
from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.domain.scenario.mood import NOTICE, MoodPoint
from workplace_roleplay.domain.scenario.progress import ScenarioProgress
from workplace_roleplay.domain.scenario.report import grade_checks
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.errors import InvalidInput, MemoryNotFound
from workplace_roleplay.ports import Clock, DocumentStore, Transaction
from workplace_roleplay.ports.model import LanguageModel

Timeline = Callable[[Conversation], Awaitable[list[MoodPoint]]]
MAX_HINTS = 60
MEMORY_PREFIX = "scenario:"  # the engine keys a character's memories "{mode}:{name}" (domain/conversation/lines.py)


def report_path(user_id: str, conversation_id: str) -> str:
    return f"users/{user_id}/scenario_reports/{conversation_id}"


class ScenarioPlay:
    """Start, gate, hint, report and compare scenario sessions of one learner."""

    def __init__(
        self,
        *,
        engine: ConversationService,
        catalog: ScenarioCatalog,
        access: ScenarioAccess,
        progress: ScenarioProgress,
        timeline: Timeline,
        store: DocumentStore,
        clock: Clock,
        model: LanguageModel,
        sealer: TextSealer | None = None,
    ) -> None:
        self.engine, self.catalog, self.access, self.progress = engine, catalog, access, progress
        self.timeline, self.store, self.clock, self.model = timeline, store, clock, model
        self.sealer: TextSealer = sealer or PlainSealer()

    async def start(self, user_id: str, scenario: Scenario, *, coaching: bool = True) -> Conversation:
        """A new session of ``scenario`` (the caller opened it through the consent gate)."""
        conv = await self.engine.start(user_id, settings={"scenario_id": scenario.id}, coaching=coaching)
        await self.progress.started(user_id, scenario.id)
        return conv

    async def session(
        self, user_id: str, conversation_id: str, *, next_path: str | None = None
    ) -> tuple[Conversation, Scenario]:
        """The learner's session and its scenario, once consent allows it (404 for another learner's id)."""
        conv = await self.engine.conversation(user_id, conversation_id)
        scenario = self.catalog.get(conv.settings.get("scenario_id", ""))
        await self.access.require_consent(user_id, scenario, next_path=next_path or f"/scenarios/{scenario.id}")
        return conv, scenario

    async def hints_used(self, conv: Conversation) -> list[dict[str, Any]]:
        doc = await self.store.get(conv.path) or {}
        raw = doc.get("scenario_hints")
        return [h for h in raw if isinstance(h, dict)] if isinstance(raw, list) else []

    async def hint(self, conv: Conversation, scenario: Scenario) -> dict[str, Any]:
        """The next hint for this learner turn (nudge, structure, example), stored on the session."""
        found: dict[str, Any] = {}

        async def apply(tx: Transaction) -> None:
            doc = await tx.get(conv.path) or {}
            raw = doc.get("scenario_hints")
            used = [h for h in raw if isinstance(h, dict)] if isinstance(raw, list) else []
            if len(used) >= MAX_HINTS:
                raise InvalidInput("too many hints in one session")
            turn = int(str(doc.get("turn_count") or 0))
            level_index = sum(1 for h in used if h.get("turn") == turn)
            hint = hint_for(scenario, level_index=level_index, learner_turn=turn)
            found.update(turn=turn, level=hint.level, label=hint.label, text=hint.text, at=self.clock.now())
            tx.set(conv.path, {"scenario_hints": [*used, dict(found)]}, merge=True)

        await self.store.run_transaction(apply)
        return found

    async def report(self, user_id: str, conv: Conversation, scenario: Scenario) -> dict[str, Any]:
        """The scenario report: six axes (engine), the scenario's checks, hints, mood timeline; stored."""
        feedback = await self.engine.feedback(user_id, conv.id)
        stored = await self.stored_report(user_id, conv)
        if stored is not None and stored.get("feedback_id") == feedback.get("report_id"):
            return stored  # the same transcript: nothing new to grade
        messages = [m for m in await self.engine.repo.messages(conv) if m.text]
        checks, not_judged = await grade_checks(self.model, conv, scenario, messages)
        points = await self.timeline(conv)
        report = {
            "session_id": conv.id,
            "scenario_id": scenario.id,
            "scenario_title": scenario.title,
            "feedback_id": feedback.get("report_id"),
            "scenario_checks": checks,
            "scenario_checks_judged": not not_judged,
            "axes": feedback.get("axes", []),
            "scores": feedback.get("scores", {}),
            "strengths": feedback.get("strengths", []),
            "growth_points": feedback.get("growth_points", []),
            "tomorrow_action": feedback.get("tomorrow_action", ""),
            "hints_used": await self.hints_used(conv),
            "mood_timeline": [p.as_dict() for p in points],
            "mood_notice": NOTICE,
            "learner_turns": sum(1 for m in messages if m.role is Role.LEARNER),
            "simple_mode": bool(feedback.get("simple_mode")),
            "notice": feedback.get("notice", ""),
            "parent_id": conv.parent_id,
            "forked_at_turn": conv.forked_at_turn,
            "created_at": self.clock.now(),
        }
        path = report_path(user_id, conv.id)
        sealed = self.sealer.seal(json.dumps(report, ensure_ascii=False), context=path)
        scores: dict[str, Any] = report["scores"]
        await self.store.set(
            path,
            {
                "scenario_id": scenario.id,
                "conversation_id": conv.id,
                "scores": scores,
                "created_at": report["created_at"],
                "report": sealed,
            },
        )
        await self.progress.completed(user_id, scenario.id)
        return {**report, "cached": False}

    async def stored_report(self, user_id: str, conv: Conversation) -> dict[str, Any] | None:
        path = report_path(user_id, conv.id)
        doc = await self.store.get(path)
        if not doc or not doc.get("report"):
            return None
        value: dict[str, Any] = json.loads(self.sealer.open(doc["report"], context=path))
        return {**value, "cached": True}

    async def compare(self, user_id: str, conv: Conversation) -> list[dict[str, Any]]:
        """The session's fork family (original first), each with its stored scenario report (or None)."""
        members = await self.engine.family(user_id, conv.id)
        return [
            {
                "session_id": m.conversation.id,
                "parent_id": m.conversation.parent_id,
                "forked_at_turn": m.conversation.forked_at_turn,
                "turn_count": m.conversation.turn_count,
                "report": await self.stored_report(user_id, m.conversation),
            }
            for m in members
        ]

    async def delete(self, user_id: str, conversation_id: str) -> None:
        """The session with everything the engine deletes, and its scenario report."""
        await self.engine.delete(user_id, conversation_id)
        await self.store.delete(report_path(user_id, conversation_id))

    async def memories(self, user_id: str) -> list[dict[str, Any]]:
        """What each scenario character remembers about the learner (recalled in every later session with them)."""
        by_name: dict[str, list[dict[str, Any]]] = {}
        for m in await self.engine.memories(user_id):
            if not m.counterpart.startswith(MEMORY_PREFIX):
                continue
            item = {"id": m.id, "text": m.text, "kind": m.kind, "session_id": m.conversation_id, "at": m.created_at}
            by_name.setdefault(m.counterpart.removeprefix(MEMORY_PREFIX), []).append(item)
        return [{"character": name, "items": items} for name, items in sorted(by_name.items())]

    async def forget(self, user_id: str, memory_id: str) -> None:
        """Delete one of the scenario characters' memories (404 for any other id)."""
        known = {m.id for m in await self.engine.memories(user_id) if m.counterpart.startswith(MEMORY_PREFIX)}
        if memory_id not in known:
            raise MemoryNotFound()
        await self.engine.forget_memory(user_id, memory_id)
