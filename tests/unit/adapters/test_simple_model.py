"""The simple-response mode: deterministic, context-aware Japanese, valid structured outputs, honest."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from workplace_roleplay.adapters.simple_model import NOTICES, SimpleModel, SimpleReason
from workplace_roleplay.adapters.simple_structured import NO_JUDGEMENT, SIMPLIFIED_NOTE
from workplace_roleplay.domain.coaching.analysis import TurnAnalysis
from workplace_roleplay.domain.coaching.reports import ConversationSummary, FeedbackDraft
from workplace_roleplay.domain.memory.book import ExtractedMemories
from workplace_roleplay.ports.model import (
    ChatMessage,
    Completion,
    GenerationMode,
    GenerationRequest,
    ModelTask,
    StreamEvent,
    TextDelta,
)

LEARNER = "すみません、資料の提出が遅れてしまいました。"


def _request(
    task: ModelTask = ModelTask.CONVERSATION_TURN, *lines: str, hints: dict[str, str] | None = None
) -> GenerationRequest:
    messages = [ChatMessage("user" if i % 2 == 0 else "model", line) for i, line in enumerate(lines)]
    return GenerationRequest(task=task, system="(ignored by the simple mode)", messages=messages, hints=hints or {})


async def _stream(model: SimpleModel, request: GenerationRequest) -> list[StreamEvent]:
    return [event async for event in model.stream(request)]


async def test_stream_is_deltas_then_a_simple_completion_with_notice() -> None:
    events = await _stream(SimpleModel(SimpleReason.OVERLOADED), _request(ModelTask.CONVERSATION_TURN, LEARNER))
    *deltas, completion = events
    assert deltas
    assert all(isinstance(d, TextDelta) for d in deltas)
    assert isinstance(completion, Completion)
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == completion.text
    assert completion.mode is GenerationMode.SIMPLE
    assert completion.model == "simple"
    assert completion.notice == NOTICES[SimpleReason.OVERLOADED]
    assert "現在AIが混み合っているため、簡易応答モードで動作しています" in completion.notice


async def test_replies_are_deterministic_and_answer_what_the_learner_did() -> None:
    model = SimpleModel()
    apology = await model.generate(_request(ModelTask.CONVERSATION_TURN, LEARNER))
    again = await model.generate(_request(ModelTask.CONVERSATION_TURN, LEARNER))
    thanks = await model.generate(_request(ModelTask.CONVERSATION_TURN, "手伝ってくれてありがとうございます。"))
    assert apology.text == again.text
    assert any(word in apology.text for word in ("報告", "正直", "状況", "影響"))
    assert any(word in thanks.text for word in ("どういたしまして", "お役に立てて"))


async def test_free_text_situation_becomes_the_topic_of_the_opening() -> None:
    hints = {"partner_type": "boss", "situation": "納期の相談"}
    completion = await SimpleModel().generate(_request(ModelTask.OPENING, hints=hints))
    assert "納期の相談" in completion.text


async def test_a_scenario_hint_plays_the_scenarios_own_lines() -> None:
    hints = {"scenario_id": "vague_request_from_boss"}
    opening = await SimpleModel().generate(_request(ModelTask.OPENING, hints=hints))
    assert opening.text.startswith("ちょっといいかな。先月の問い合わせの件数")
    first = await SimpleModel().generate(_request(ModelTask.CONVERSATION_TURN, "形式はどうしましょうか", hints=hints))
    assert first.text == "形式はそうだね、会議で見せられる感じならいいよ。"
    unknown = await SimpleModel().generate(_request(ModelTask.OPENING, hints={"scenario_id": "no_such_scenario"}))
    assert unknown.text  # an unknown id falls back to the generic phrases


def _watch_request(dialogue: list[tuple[str, str]], speaker: str, other: str) -> GenerationRequest:
    """A watch line's request as the engine renders it (``render_messages``): each line names its speaker,
    the speaker's own lines are ``model`` turns, and an instruction opens a transcript that would start
    with the speaker's own line."""
    messages = [
        ChatMessage("model" if who == speaker else "user", text if who == speaker else f"{who}: {text}", speaker=who)
        for who, text in dialogue
    ]
    if not messages or messages[0].role == "model":
        messages.insert(0, ChatMessage("user", "（会話を始めてください）"))
    hints = {"mode": "watch", "speaker": speaker, "watch_speakers": f"{speaker},{other}", "topic": "新しい企画"}
    return GenerationRequest(task=ModelTask.WATCH_LINE, system="", messages=messages, hints=hints)


async def test_watch_lines_address_the_other_speaker_and_never_repeat_within_a_run() -> None:
    dialogue: list[tuple[str, str]] = []
    for n in range(12):  # a run's line budget
        speaker, other = ("太郎", "花子") if n % 2 == 0 else ("花子", "太郎")
        line = (await SimpleModel().generate(_watch_request(dialogue, speaker, other))).text
        dialogue.append((speaker, line))
    lines = [text for _, text in dialogue]
    assert len(set(lines)) == 12, f"a watch line came round again within one run: {lines}"
    assert "花子" in lines[0]


async def test_turn_analysis_validates_and_does_not_guess() -> None:
    result = await SimpleModel().generate_structured(_request(ModelTask.TURN_ANALYSIS, LEARNER), TurnAnalysis)
    assert result.completion.mode is GenerationMode.SIMPLE
    assert result.value.emotion == NO_JUDGEMENT
    assert result.value.better_phrasing == ""
    assert result.value.sentiment == 0.0


async def test_summary_is_built_from_the_transcript() -> None:
    request = _request(ModelTask.SUMMARY, "来週の会議の件です。", "はい。", LEARNER, hints={"topic": "週次会議"})
    result = await SimpleModel().generate_structured(request, ConversationSummary)
    assert result.value.summary.startswith("【簡易要約】週次会議")
    assert "来週の会議の件です。" in result.value.summary
    assert "2回" in result.value.summary


async def test_feedback_report_is_marked_simplified_and_quotes_the_learner() -> None:
    result = await SimpleModel().generate_structured(_request(ModelTask.FEEDBACK_REPORT, LEARNER), FeedbackDraft)
    draft = result.value
    assert 1 <= len(draft.strengths) <= 2
    assert all(check.passed is False for check in draft.checks)  # nothing is judged as passed
    assert result.completion.notice


async def test_memory_extraction_invents_no_facts() -> None:
    result = await SimpleModel().generate_structured(
        _request(ModelTask.MEMORY_EXTRACTION, "私は朝が苦手です。"), ExtractedMemories
    )
    assert result.value.facts == []


class Level(Enum):
    LOW = "low"
    HIGH = "high"


class QuizItem(BaseModel):
    question: str
    options: list[str] = Field(min_length=3, max_length=4)
    answer_index: int = Field(ge=0, le=3)


class Quiz(BaseModel):
    title: str = Field(min_length=2, max_length=30)
    simplified: bool = False
    mode: Literal["model", "simple"]
    level: Level
    questions: list[QuizItem] = Field(min_length=1, max_length=5)
    score: float = Field(gt=0, lt=10)
    created: dt.datetime
    tags: dict[str, str]
    comment: str | None


async def test_any_schema_gets_a_valid_instance_quiz_from_the_transcript() -> None:
    request = _request(ModelTask.QUIZ, LEARNER, "そうですか。", "明日までに送ります。")
    quiz = (await SimpleModel().generate_structured(request, Quiz)).value
    assert quiz.simplified is True
    assert quiz.mode == "simple"
    assert quiz.level is Level.LOW
    assert len(quiz.questions) == 3
    assert LEARNER[:20] in quiz.questions[0].question
    assert 0 < quiz.score < 10
    assert quiz.comment == SIMPLIFIED_NOTE
    assert len(quiz.title) <= 30


@pytest.mark.parametrize("reason", list(SimpleReason))
async def test_every_reason_has_a_japanese_notice(reason: SimpleReason) -> None:
    completion = await SimpleModel(reason).generate(_request(ModelTask.CONVERSATION_TURN, "こんにちは"))
    assert "簡易応答モード" in completion.notice
