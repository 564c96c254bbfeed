"""The scenario report: the engine's six-axis feedback plus the scenario's own checks, hints used and mood.

The scenario's checks are graded by a separate grader prompt (temperature 0, structured output); a check
passes only with a verbatim learner quote (``rubric.quoted``). In the simple-response mode nothing can read
the free-text checks, so they are reported as not judged (``passed: null``), never guessed (ADR 0029).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from workplace_roleplay.domain.coaching import rubric
from workplace_roleplay.domain.conversation.records import Conversation, Message, Role
from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.ports.model import ChatMessage, GenerationMode, GenerationRequest, LanguageModel, ModelTask

NOT_JUDGED = "簡易モードでは、このシナリオ固有の項目は判定していません（AI採点が使えるときに判定されます）。"

GRADER_SYSTEM = """\
あなたは職場コミュニケーション研修の評価者です。user が学習者（{role}）、model が相手役です。
場面: {situation}
次の各チェック項目について、学習者の発言だけを根拠に yes(passed=true)/no を判定してください。
passed=true の場合は evidence に学習者の発言をそのまま引用すること（引用できない場合は false）。
{checks}
JSONのみ。"""


class ScenarioVerdict(BaseModel):
    id: str = Field(description="チェック項目のID")
    passed: bool
    evidence: str = Field(default="", max_length=200, description="根拠となる学習者の発言の引用（そのまま）")


class ScenarioChecksDraft(BaseModel):
    checks: list[ScenarioVerdict]


def grader_request(conv: Conversation, scenario: Scenario, messages: Sequence[Message]) -> GenerationRequest:
    checks = "\n".join(f"- {c.id}: {c.question}" for c in scenario.checks)
    system = GRADER_SYSTEM.format(role=scenario.learner.role, situation=scenario.situation, checks=checks)
    return GenerationRequest(
        task=ModelTask.FEEDBACK_REPORT,
        system=system,
        messages=[ChatMessage(role="user" if m.role is Role.LEARNER else "model", text=m.text) for m in messages],
        temperature=0.0,
        hints={"mode": conv.mode, "scenario_id": scenario.id, "grader": "scenario_checks"},
        user_id=conv.user_id,
    )


async def grade_checks(
    model: LanguageModel, conv: Conversation, scenario: Scenario, messages: Sequence[Message]
) -> tuple[list[dict[str, Any]], bool]:
    """The scenario's checks judged with quoted evidence, and whether it was the simple mode (not judged)."""
    learner_lines = [m.text for m in messages if m.role is Role.LEARNER]
    result = await model.generate_structured(grader_request(conv, scenario, messages), ScenarioChecksDraft)
    if result.completion.mode is GenerationMode.SIMPLE:
        return [
            {"id": c.id, "question": c.question, "passed": None, "evidence": "", "note": NOT_JUDGED}
            for c in scenario.checks
        ], True
    by_id = {v.id: v for v in result.value.checks}
    out = []
    for check in scenario.checks:
        verdict = by_id.get(check.id)
        quoted = verdict is not None and rubric.quoted(verdict.evidence, learner_lines)
        out.append(
            {
                "id": check.id,
                "question": check.question,
                "passed": bool(verdict and verdict.passed and quoted),
                "evidence": verdict.evidence if verdict and quoted else "",
                "note": "",
            }
        )
    return out, False
