"""The pure transform: every rule of the legacy conversion (legacy.md §2.5)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.support.legacy import realistic_counts, realistic_session
from workplace_roleplay.domain.migration.inventory import DROPPED, MAPPED
from workplace_roleplay.domain.migration.scenarios import TableMapping
from workplace_roleplay.domain.migration.text import html_to_text
from workplace_roleplay.domain.migration.transform import TransformOptions, transform

UID = "ecd0938e-1430-4046-92aa-5385295c708a"


def test_user_id_is_kept_byte_for_byte_and_generated_only_when_absent() -> None:
    plan = transform(realistic_session(user_id=UID), user_id_if_absent="generated")
    assert plan.user_id == UID
    assert not plan.user_id_generated
    plan = transform(realistic_session(), user_id_if_absent="generated")
    assert plan.user_id == "generated"
    assert plan.user_id_generated


def test_conversations_and_counts() -> None:
    plan = transform(realistic_session(user_id=UID, turns=3), user_id_if_absent="x")
    counts, messages = realistic_counts(3)
    assert plan.counts() == counts
    assert plan.message_count == messages
    assert plan.skipped_empty_scenarios == ("scenario5",)


def test_opening_markers_are_metadata_never_learner_text() -> None:
    plan = transform(realistic_session(user_id=UID), user_id_if_absent="x")
    chat = next(c for c in plan.conversations if c.mode == "chat")
    assert chat.extra["legacy"]["opening_marker"] == "[雑談開始]"
    assert chat.messages[0].role == "counterpart"  # the opening line, no learner line before it
    scenario = next(c for c in plan.conversations if c.mode == "scenario")
    assert scenario.extra["legacy"]["opening_marker"] == "[シナリオ開始]"
    assert all("開始]" not in m.text for c in plan.conversations for m in c.messages)


def test_error_texts_become_failed_turns_and_html_becomes_text() -> None:
    chat = next(c for c in transform(realistic_session(), user_id_if_absent="x").conversations if c.mode == "chat")
    assert chat.messages[0].text == "お疲れさまです！今日は忙しかったですか？"
    failed = [m for m in chat.messages if m.failed]
    assert len(failed) == 1
    assert failed[0].text.startswith("申し訳ありません")
    assert failed[0].role == "counterpart"


def test_html_to_text_drops_scripts_and_keeps_plain_prose() -> None:
    assert html_to_text("a<br>b<script>alert(1)</script>&amp;c") == "a\nb&c"
    assert html_to_text("3 < 5 です") == "3 < 5 です"


def test_watch_personas_user_turns_and_next_speaker() -> None:
    plan = transform(realistic_session(), user_id_if_absent="x")
    watch = next(c for c in plan.conversations if c.mode == "watch")
    assert [m.speaker for m in watch.messages] == ["太郎", "花子", "太郎", ""]
    assert watch.messages[-1].role == "learner"
    assert watch.messages[-1].text == "私も混ぜてください"
    assert watch.messages[-1].created_at > watch.messages[-2].created_at
    assert watch.extra["next_speaker"] == "花子"  # current_speaker "A" spoke last
    assert watch.messages[0].model == "gemini/gemini-2.5-flash"


def test_scenario_mapping_hook_and_the_legacy_id_fallback() -> None:
    session = realistic_session()
    plain = transform(session, user_id_if_absent="x")
    scenario = next(c for c in plain.conversations if c.mode == "scenario")
    assert scenario.settings["scenario_id"] == "scenario1"
    assert scenario.extra == {**scenario.extra, "legacy_scenario_id": "scenario1", "scenario_mapped": False}
    mapped = transform(
        session, user_id_if_absent="x", options=TransformOptions(scenarios=TableMapping({"scenario1": "s-v2"}))
    )
    scenario = next(c for c in mapped.conversations if c.mode == "scenario")
    assert scenario.settings["scenario_id"] == "s-v2"
    assert scenario.extra["legacy_scenario_id"] == "scenario1"
    assert scenario.extra["scenario_mapped"] is True


def test_naive_timestamps_are_read_in_the_legacy_zone() -> None:
    session = {"chat_history": [{"human": "やあ", "ai": "どうも", "timestamp": "2026-11-26T09:00:00"}]}
    utc = transform(session, user_id_if_absent="x").conversations[0].messages[0].created_at
    tokyo = transform(session, user_id_if_absent="x", options=TransformOptions(zone=ZoneInfo("Asia/Tokyo")))
    assert utc == datetime(2026, 11, 26, 9, tzinfo=ZoneInfo("UTC")).timestamp()
    assert tokyo.conversations[0].messages[0].created_at == utc - 9 * 3600


def test_consents_progress_csrf_and_dropped_keys() -> None:
    session = {**realistic_session(user_id=UID), "supabase_access_token": "jwt", "brand_new_key": 1}
    plan = transform(session, user_id_if_absent="x", user_data={"skill_xp": {"empathy": 3}})
    assert plan.consents["harassment"] is True
    assert isinstance(plan.consents["harassment_at"], float)
    assert plan.progress.strength_history["chat"][0]["scores"]["empathy"] == 66
    assert plan.progress.quiz_results == [{"is_correct": True, "question": "要点は？"}]
    assert plan.progress.user_data == {"skill_xp": {"empathy": 3}}
    assert plan.legacy_csrf_token == session["csrf_token"]
    assert "supabase_access_token" in plan.dropped
    assert "_permanent" in plan.dropped
    assert plan.unknown == {"brand_new_key": 1}


def test_a_csrf_only_session_has_nothing_to_migrate() -> None:
    plan = transform({"csrf_token": "ab" * 16, "csrf_token_time": 1.0}, user_id_if_absent="x")
    assert not plan.has_content
    assert plan.conversations == ()


def test_malformed_entries_are_skipped_not_guessed() -> None:
    session = {
        "chat_history": [None, "text", {"human": 3, "ai": None}, {"human": "ok", "ai": "はい"}],
        "scenario_history": {"s": "not a list"},
        "watch_history": [{"speaker": "C", "message": "x"}],
    }
    plan = transform(session, user_id_if_absent="x")
    assert plan.message_count == 2


def test_every_inventory_key_is_documented_in_docs_migration() -> None:
    from tests.support.legacy import REPO_ROOT

    doc = (REPO_ROOT / "docs" / "migration.md").read_text(encoding="utf-8")
    for key in [*MAPPED, *DROPPED]:
        assert f"`{key}`" in doc, key
    assert not set(MAPPED) & set(DROPPED)
