"""Prompt pieces of a scenario for the conversation engine's cast (pure text, no engine types).

The engine-based play builds its scenario cast from these: who the counterpart is (roster persona), the
scene, the learner's role, how to open, and the model hints (``scenario_id`` makes the simple-response mode
answer from the scenario's own data).
"""

from __future__ import annotations

from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.domain.scenario.roster import Roster
from workplace_roleplay.domain.scenario.simple_reply import main_counterpart


def counterpart_brief(scenario: Scenario, roster: Roster, character_id: str | None = None) -> str:
    """The counterpart's system-prompt section: persona, scene, who the learner is, how to behave."""
    character = roster.character(character_id or main_counterpart(scenario))
    others = [roster.character(c).name for c in scenario.counterparts if c != character.id]
    lines = [
        character.persona_prompt(),
        f"場面: {scenario.situation}",
        f"相手（学習者）: {scenario.learner.role}。学習者の目標は「{scenario.learner.goal}」。",
    ]
    if others:
        lines.append(f"同じ場にいる人: {'、'.join(others)}")
    lines.append(
        "この人物として、場面に合った自然な日本語で、一度に一〜三文だけ話してください。"
        "ト書きや括弧書きの感情表現は書かず、せりふだけを返してください。"
        "学習者の言葉に応じて、信頼が高まることには態度を和らげ、反発を招くことには慎重になってください。"
    )
    return "\n".join(lines)


def opening_instruction(scenario: Scenario) -> str | None:
    """What to ask the model for the first line; None when the learner speaks first (a situation card)."""
    if scenario.opening.learner_first:
        return None
    return f"最初のひと言として、次の内容を自分の言葉で自然に話しかけてください: {scenario.opening.line}"


def model_hints(scenario: Scenario, roster: Roster) -> dict[str, str]:
    """Hints for the model port (the simple-response mode reads ``scenario_id``)."""
    character = roster.character(main_counterpart(scenario))
    return {
        "mode": "scenario",
        "scenario_id": scenario.id,
        "partner_name": character.name,
        "partner_rank": character.rank.value,
        "situation": scenario.situation,
    }
