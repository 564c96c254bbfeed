"""What a report says: the model's structured drafts, and the report body built from rubric judgements
(the model's, or the rules' in the simple-response mode). ``reports.py`` makes, caches and stores them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from workplace_roleplay.domain.coaching import rubric
from workplace_roleplay.domain.conversation.records import Conversation, Message, Role


class ConversationSummary(BaseModel):
    summary: str = Field(max_length=600)
    key_points: list[str] = Field(default_factory=list, max_length=5)
    learning_points: list[str] = Field(default_factory=list, max_length=5)


class CheckVerdict(BaseModel):
    id: str = Field(description="チェック項目のID（E1など）")
    passed: bool
    evidence: str = Field(default="", max_length=200, description="根拠となる学習者の発言の引用（そのまま）")


class FeedbackDraft(BaseModel):
    checks: list[CheckVerdict]
    strengths: list[str] = Field(min_length=1, max_length=2)
    growth_points: list[str] = Field(min_length=1, max_length=2)
    tomorrow_action: str = Field(max_length=120)


def report_body(
    conv: Conversation,
    judgements: Sequence[rubric.Judgement],
    learner_lines: Sequence[str],
    strengths: Sequence[str],
    growth: Sequence[str],
    action: str,
) -> dict[str, Any]:
    scores = rubric.scores(judgements, learner_lines)
    axes = []
    for axis, label in rubric.AXES.items():
        checks = [
            {
                "id": j.check_id,
                "question": rubric.CHECKS_BY_ID[j.check_id].question,
                "passed": j.passed and rubric.quoted(j.evidence, learner_lines),
                "evidence": j.evidence if rubric.quoted(j.evidence, learner_lines) else "",
            }
            for j in judgements
            if j.check_id in rubric.CHECKS_BY_ID and rubric.CHECKS_BY_ID[j.check_id].axis == axis
        ]
        axes.append({"axis": axis, "label": label, "score": scores[axis], "checks": checks})
    return {
        "conversation_id": conv.id,
        "scores": scores,
        "axes": axes,
        "strengths": list(strengths),
        "growth_points": list(growth),
        "tomorrow_action": action,
    }


def simple_advice(judgements: Sequence[rubric.Judgement]) -> tuple[list[str], list[str], str]:
    passed = [rubric.CHECKS_BY_ID[j.check_id] for j in judgements if j.passed]
    failed = [rubric.CHECKS_BY_ID[j.check_id] for j in judgements if not j.passed]
    strengths = [f"{c.question.removesuffix('か')}ことができていました。" for c in passed[:2]]
    growth = [f"{c.tip}と、さらに良くなります。" for c in failed[:2]]
    action = failed[0].tip + "。" if failed else "今日の良かった話し方を、明日も職場で一度使ってみましょう。"
    return strengths or ["会話に参加し、最後までやり取りを続けられました。"], growth, action


def simple_summary(messages: Sequence[Message], rank: str) -> ConversationSummary:
    learner = [m.text.strip().replace("\n", " ") for m in messages if m.role is Role.LEARNER]
    counterpart = [m for m in messages if m.role is Role.COUNTERPART]
    if not learner:  # a watch run the learner only watched: summarise what the characters said
        said = [f"{m.speaker}: {m.text.strip().replace(chr(10), ' ')}"[:60] for m in counterpart]
        return ConversationSummary(
            summary=f"{len(counterpart)}回のやり取りを観戦しました。最初の発言:「{said[0] if said else ''}」",
            key_points=said[:3],
            learning_points=[
                "相手の直前の発言にどう反応しているかに注目しましょう",
                "次は会話に参加して試してみましょう",
            ],
        )
    judgements = rubric.rule_based_judgements(learner, [m.text for m in counterpart], rank)
    tips = [rubric.CHECKS_BY_ID[j.check_id].tip for j in judgements if not j.passed][:2]
    return ConversationSummary(
        summary=f"{len(learner)}回発言した雑談です。最初の発言:「{learner[0][:60]}」",
        key_points=[line[:60] for line in learner[:3]],
        learning_points=tips or ["今日の話し方を次の会話でも続けましょう"],
    )
