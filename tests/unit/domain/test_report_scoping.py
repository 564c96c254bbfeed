"""Reports are the learner's own: cache keys scoped to user and conversation, cached values sealed,
stored reports read back without a model call and deleted with their conversation."""

from __future__ import annotations

import json
import os
from typing import Any

from tests.support.engine import engine
from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.domain.coaching.rubric import CHECKS
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer
from workplace_roleplay.ports.model import GenerationMode, ModelTask

LINES = ["お疲れさまです！週末はキャンプに行きました。", "〇〇さんは週末どうでしたか？"]
QUOTE = "〇〇さんは週末どうでしたか？"


def sealed_service(store: FakeStore, cache: FakeCache, model: FakeLanguageModel) -> ChatService:
    cipher = AesGcmFieldCipher(primary_kid="k1", keys={"k1": os.urandom(32)})
    return engine(store, cache, model, sealer=CipherSealer(cipher))


def draft() -> dict[str, Any]:
    checks = [{"id": c.id, "passed": c.id == "L1", "evidence": QUOTE if c.id == "L1" else ""} for c in CHECKS]
    return {
        "checks": checks,
        "strengths": ["質問を返せた"],
        "growth_points": ["感想を添える"],
        "tomorrow_action": "朝の挨拶に質問を添える",
    }


async def talk(chat: ChatService, user_id: str) -> str:
    conv = await chat.start(user_id, settings={"partner_type": "senior"})
    for index, line in enumerate(LINES):
        [_ async for _ in chat.turn(conv, text=line, client_message_id=str(index))]
    return conv.id


async def test_two_learners_with_the_same_transcript_get_their_own_reports() -> None:
    store, cache = FakeStore(), FakeCache()
    # The simple-response mode: the opening and the rule-based report are deterministic, so the
    # two transcripts are identical word for word.
    simple = FakeLanguageModel(mode=GenerationMode.SIMPLE, model="simple")
    simple.structured[ModelTask.FEEDBACK_REPORT] = [draft(), draft()]
    summary = {"summary": "x", "key_points": [], "learning_points": []}
    simple.structured[ModelTask.SUMMARY] = [summary, summary]
    chat = sealed_service(store, cache, simple)
    first_cid, second_cid = await talk(chat, "u1"), await talk(chat, "u2")
    first = await chat.feedback("u1", first_cid)
    second = await chat.feedback("u2", second_cid)

    assert second["cached"] is False
    assert second["conversation_id"] == second_cid
    assert second["report_id"] != first["report_id"]
    assert f"users/u2/reports/{second['report_id']}" in store.docs
    assert not any(path.startswith("users/u1/") for path in store.docs if second["report_id"] in path)
    summary_1 = await chat.summary("u1", first_cid)
    summary_2 = await chat.summary("u2", second_cid)
    assert summary_2["cached"] is False
    assert (summary_1["conversation_id"], summary_2["conversation_id"]) == (first_cid, second_cid)
    # Each learner's second ask is their own cache hit.
    again = await chat.feedback("u2", second_cid)
    assert again["cached"] is True
    assert again["report_id"] == second["report_id"]


async def test_the_cached_report_is_sealed_and_still_a_hit() -> None:
    store, cache, model = FakeStore(), FakeCache(), FakeLanguageModel()
    model.structured[ModelTask.FEEDBACK_REPORT] = [draft()]
    chat = sealed_service(store, cache, model)
    cid = await talk(chat, "u1")
    report = await chat.feedback("u1", cid)
    assert any(c["evidence"] == QUOTE for a in report["axes"] for c in a["checks"])
    entries = {k: v for k, v in cache.data.items() if k.startswith("ai_cache:feedback:")}
    assert len(entries) == 1
    raw = next(iter(entries.values())).decode()
    assert QUOTE not in raw
    assert "〇〇" not in raw
    assert set(json.loads(raw)) == {"kid", "ct"}
    again = await chat.feedback("u1", cid)
    assert again["cached"] is True
    assert again["axes"] == report["axes"]
    assert len(model.tasks(ModelTask.FEEDBACK_REPORT)) == 1


async def test_stored_reports_read_back_and_go_with_the_conversation() -> None:
    store, cache, model = FakeStore(), FakeCache(), FakeLanguageModel()
    model.structured[ModelTask.FEEDBACK_REPORT] = [draft()]
    model.structured[ModelTask.SUMMARY] = [
        {"summary": "週末の話をした", "key_points": ["キャンプ"], "learning_points": ["質問を返せた"]}
    ]
    chat = sealed_service(store, cache, model)
    cid = await talk(chat, "u1")
    assert await chat.stored_summary("u1", cid) is None
    assert await chat.stored_feedback("u1", cid) is None
    summary = await chat.summary("u1", cid)
    report = await chat.feedback("u1", cid)
    calls = len(model.requests)

    read_summary = await chat.stored_summary("u1", cid)
    read_report = await chat.stored_feedback("u1", cid)
    assert read_summary is not None
    assert read_report is not None
    assert read_summary["summary"] == summary["summary"]
    assert read_report["report_id"] == report["report_id"]
    assert read_report["scores"] == report["scores"]
    assert len(model.requests) == calls  # read back, not generated again

    await chat.delete("u1", cid)
    assert not [p for p in store.docs if p.startswith("users/u1/reports/")]
    assert not [p for p in store.docs if cid in p]
    assert not [k for k in cache.data if k.startswith("ai_cache:")]
