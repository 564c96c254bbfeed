"""Summary and six-axis feedback reports: evidence-backed checks, derived scores, cache, simple mode."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeCache, FakeStore
from tests.unit.domain.conftest import make_service
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching.rubric import CHECKS, Judgement, rule_based_judgements, scores
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.errors import InvalidInput
from workplace_roleplay.ports.model import GenerationMode, ModelTask

LEARNER = ["お疲れさまです！週末はキャンプに行きました。", "〇〇さんは週末どうでしたか？"]


def draft(evidence_for_e2: str) -> dict[str, Any]:
    checks = [{"id": c.id, "passed": False, "evidence": ""} for c in CHECKS]
    checks[0] = {"id": "E1", "passed": True, "evidence": "お疲れさまです"}
    checks[1] = {"id": "E2", "passed": True, "evidence": evidence_for_e2}
    checks[4] = {"id": "L1", "passed": True, "evidence": "〇〇さんは週末どうでしたか？"}
    return {
        "checks": checks,
        "strengths": ["挨拶から入れた", "質問を返せた"],
        "growth_points": ["感想を添える", "具体的に話す"],
        "tomorrow_action": "朝の挨拶のあとにひと言質問を添える",
    }


async def talk(chat: ChatService) -> str:
    conv = await chat.start("u1", settings={"partner_type": "senior"})
    for index, line in enumerate(LEARNER):
        [_ async for _ in chat.turn(conv, text=line, client_message_id=str(index))]
    return conv.id


async def test_scores_come_from_checks_with_quoted_evidence_and_reports_are_cached(
    chat: ChatService, model: FakeLanguageModel, store: FakeStore
) -> None:
    cid = await talk(chat)
    # E2 claims a pass with a quote the learner never said: it must not count.
    model.structured[ModelTask.FEEDBACK_REPORT] = [draft("とても共感しました")]
    report = await chat.feedback("u1", cid)
    assert report["scores"]["empathy"] == 50
    assert report["scores"]["active_listening"] == 50
    assert report["scores"]["positivity"] == 0
    empathy = next(a for a in report["axes"] if a["axis"] == "empathy")
    assert [(c["id"], c["passed"], c["evidence"]) for c in empathy["checks"]] == [
        ("E1", True, "お疲れさまです"),
        ("E2", False, ""),
    ]
    assert report["tomorrow_action"] == "朝の挨拶のあとにひと言質問を添える"
    assert not report["simple_mode"]
    stored = store.docs[f"users/u1/reports/{report['report_id']}"]
    assert stored["scores"] == report["scores"]
    assert stored["conversation_id"] == cid
    again = await chat.feedback("u1", cid)
    assert again["cached"]
    assert again["scores"] == report["scores"]
    assert len(model.tasks(ModelTask.FEEDBACK_REPORT)) == 1


async def test_simple_mode_report_is_rule_based_and_labelled(
    store: FakeStore, cache: FakeCache, background: BackgroundWork
) -> None:
    simple = FakeLanguageModel(mode=GenerationMode.SIMPLE, model="simple")
    simple.structured[ModelTask.FEEDBACK_REPORT] = [draft("x")]
    simple.structured[ModelTask.SUMMARY] = [{"summary": "x", "key_points": [], "learning_points": []}]
    chat = make_service(store, cache, simple, background)
    cid = await talk(chat)
    report = await chat.feedback("u1", cid)
    assert report["simple_mode"]
    assert "簡易" in report["notice"]
    listening = next(a for a in report["axes"] if a["axis"] == "active_listening")
    assert listening["checks"][0] == {
        "id": "L1",
        "question": "相手に質問をして話を広げたか",
        "passed": True,
        "evidence": "〇〇さんは週末どうでしたか？",
    }
    assert len(report["strengths"]) >= 1
    assert len(report["growth_points"]) == 2
    summary = await chat.summary("u1", cid)
    assert summary["simple_mode"]
    assert summary["key_points"][0].startswith("お疲れさまです")


async def test_summary_uses_the_model_and_is_cached(chat: ChatService, model: FakeLanguageModel) -> None:
    cid = await talk(chat)
    model.structured[ModelTask.SUMMARY] = [
        {"summary": "週末の話をした", "key_points": ["キャンプ"], "learning_points": ["質問を返せた"]}
    ]
    first = await chat.summary("u1", cid)
    second = await chat.summary("u1", cid)
    assert first["summary"] == "週末の話をした"
    assert not first["cached"]
    assert second["cached"]
    assert len(model.tasks(ModelTask.SUMMARY)) == 1


async def test_nothing_to_review_is_a_clear_error(chat: ChatService) -> None:
    conv = await chat.start("u1")
    with pytest.raises(InvalidInput):
        await chat.summary("u1", conv.id)


def test_rule_based_judgements_quote_the_learner() -> None:
    judgements = rule_based_judgements(LEARNER, ["週末はどうでしたか？"], "senior")
    for judgement in judgements:
        if judgement.passed:
            assert any(judgement.evidence in line for line in LEARNER)
    by_id = {j.check_id: j for j in judgements}
    assert by_id["L1"].passed
    assert by_id["R1"].passed
    assert not by_id["E2"].passed


def test_scores_are_reproducible_and_ignore_unknown_checks() -> None:
    judgements = [Judgement("E1", True, "お疲れさまです"), Judgement("Z9", True, "x")]
    assert scores(judgements, LEARNER) == scores(list(reversed(judgements)), LEARNER)
    assert scores(judgements, LEARNER)["empathy"] == 100
