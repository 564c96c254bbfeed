"""Context window, moderation and memory relevance: the pure text rules of the chat domain."""

from __future__ import annotations

from pathlib import Path

from workplace_roleplay.domain.coaching.analysis import fit_for, politeness_of
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.conversation.context_window import estimate_tokens, fit, needs_summary
from workplace_roleplay.domain.conversation.records import Message, MessageStatus, Role
from workplace_roleplay.domain.memory.book import Memory, rank, similarity


def msg(i: int, role: Role, text: str, status: MessageStatus = MessageStatus.COMPLETE) -> Message:
    return Message(id=f"m{i}", role=role, text=text, created_at=float(i), turn_id=f"t{i}", status=status)


def test_window_keeps_the_newest_lines_within_budget_and_starts_on_a_learner_line() -> None:
    lines = [msg(i, Role.LEARNER if i % 2 else Role.COUNTERPART, "あ" * 20) for i in range(1, 9)]
    window = fit(lines, budget_tokens=70)
    assert window.recent[0].role is Role.LEARNER
    assert sum(estimate_tokens(m.text) for m in window.recent) <= 70
    assert window.older
    assert window.older[-1].created_at < window.recent[0].created_at
    assert needs_summary(window, 0.0)
    assert not needs_summary(window, window.overflow_through)


def test_window_drops_failed_markers_and_keeps_everything_that_fits() -> None:
    lines = [msg(1, Role.COUNTERPART, "こんにちは"), msg(2, Role.LEARNER, ""), msg(3, Role.LEARNER, "はい")]
    lines[1].status = MessageStatus.FAILED
    window = fit(lines, budget_tokens=1000)
    assert [m.id for m in window.recent] == ["m1", "m3"]
    assert window.older == []


def test_token_estimate_counts_japanese_per_character() -> None:
    assert estimate_tokens("おはようございます") >= 9
    assert estimate_tokens("good morning everyone") < 10


def test_ng_words_are_masked_across_width_variants(tmp_path: Path) -> None:
    words = tmp_path / "ng.txt"
    words.write_text("# comment\nばか\nﾀﾞﾒ人間\n", encoding="utf-8")
    moderator = Moderator.from_files(words)
    masked, hit = moderator.mask("本当にばかだな")
    assert hit
    assert masked == "本当に**だな"
    assert moderator.mask("ダメ人間だ")[1]  # half-width in the list, full-width in the text
    assert moderator.mask("おはようございます") == ("おはようございます", False)


def test_keigo_levels_and_fit_by_partner_rank() -> None:
    assert politeness_of("承知いたしました") == "honorific"
    assert politeness_of("行きます") == "polite"
    assert politeness_of("行くよ") == "casual"
    assert fit_for("casual", "boss") == "too_casual"
    assert fit_for("honorific", "peer") == "too_formal"
    assert fit_for("polite", "client") == "good"


def test_character_ngram_relevance_works_without_spaces() -> None:
    assert similarity("キャンプが趣味です", "週末はキャンプに行きます") > similarity("キャンプが趣味です", "会議の資料")
    memories = [
        Memory("a", "学習者は会議で発言するのが苦手", "difficulty", 0.6, "chat:x", "c1", 1.0),
        Memory("b", "学習者はキャンプが趣味", "preference", 0.6, "chat:x", "c1", 2.0),
        Memory("c", "学習者は辛い料理が好き", "preference", 0.2, "chat:y", "c2", 3.0),
    ]
    assert [m.id for m in rank(memories, "来週キャンプに行きます", counterpart="chat:x", limit=1)] == ["b"]
    assert [m.id for m in rank(memories, "明日の会議が不安です", counterpart="chat:x", limit=1)] == ["a"]
