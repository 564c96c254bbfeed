"""Every simple-mode line, for every chat setting and every scenario, against a list of known-bad patterns.

The patterns are mistakes the simple mode made before (「最近のことのこと」, a boss saying こんにちは at
朝の出社時, 「花子さんさん」) and their family: doubled particles and punctuation, unfilled placeholders,
greetings that contradict the time of the scene.
"""

from __future__ import annotations

import itertools
import re

import pytest

from workplace_roleplay.adapters.simple_model import SimpleModel, every_reply
from workplace_roleplay.domain.modes.chat import PARTNER_TYPES, SITUATIONS, TOPICS
from workplace_roleplay.domain.scenario.catalog import load_catalog
from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.domain.scenario.simple_reply import every_line
from workplace_roleplay.ports.model import ChatMessage, GenerationRequest, ModelTask

KNOWN_BAD: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("のことのこと", re.compile(r"のことのこと")),
    ("doubled particle", re.compile(r"(?<![ぁ-ん])(をを|がが|にに|でで|へへ|のの|はは(?!は))")),
    ("doubled honorific", re.compile(r"さんさん|様様|さん様")),
    ("doubled punctuation", re.compile(r"[。、]{2,}|、。|。、|？。|！。")),
    ("unfilled placeholder", re.compile(r"[{}]|None|null")),
    ("について重複", re.compile(r"についてについて|の件の件")),
)
GREETING_CLASHES: dict[str, re.Pattern[str]] = {
    "morning": re.compile(r"こんにちは|こんばんは"),
    "day": re.compile(r"おはよう|こんばんは"),
    "evening": re.compile(r"おはよう|こんにちは"),
}
CHAT_TIME = {"morning": "morning", "lunch": "day", "break": "day", "evening": "evening", "party": "evening"}
CATALOG = load_catalog()


def problems(line: str, time: str | None) -> list[str]:
    found = [name for name, pattern in KNOWN_BAD if pattern.search(line)]
    if time is not None and GREETING_CLASHES[time].search(line):
        found.append(f"greeting contradicts the {time} scene")
    if not line.strip():
        found.append("empty line")
    return found


def scene_time(scenario: Scenario) -> str | None:
    text = scenario.situation + (scenario.opening.card or "")
    if re.search(r"朝|午前", text):
        return "morning"
    if re.search(r"夕方|夜|定時|終業|帰り|飲み会", text):
        return "evening"
    return None


def test_the_checker_catches_the_mistakes_it_is_for() -> None:
    assert problems("最近のことのこと、少し話しませんか。", None) == ["のことのこと"]
    assert "greeting contradicts the morning scene" in problems("こんにちは、高橋課長です。", "morning")
    assert problems("花子さんさん、相談してもいいですか。", None) == ["doubled honorific"]
    assert problems("資料をを送ります。", None) == ["doubled particle"]
    assert problems("おはよう。今日もよろしくね。", "morning") == []


@pytest.mark.parametrize(
    ("partner_type", "situation", "topic"), list(itertools.product(PARTNER_TYPES, SITUATIONS, TOPICS))
)
def test_every_chat_template_for_every_setting_is_clean(partner_type: str, situation: str, topic: str) -> None:
    hints = {
        "mode": "chat",
        "partner_type": partner_type,
        "partner_name": PARTNER_TYPES[partner_type].name,
        "situation": situation,
        "topic": topic,
    }
    lines = every_reply(hints)
    assert len(lines) >= 20
    bad = {line: problems(line, CHAT_TIME[situation]) for line in lines}
    assert not {line: p for line, p in bad.items() if p}


@pytest.mark.parametrize("scenario", CATALOG.scenarios, ids=lambda s: s.id)
def test_every_scenario_line_is_clean(scenario: Scenario) -> None:
    lines = every_line(scenario, CATALOG.roster)
    time = scene_time(scenario)
    bad = {line: problems(line, time) for line in lines}
    assert not {line: p for line, p in bad.items() if p}


async def test_the_boss_greets_good_morning_at_the_morning_scene() -> None:
    model = SimpleModel()
    hints = {"partner_type": "boss", "situation": "morning", "topic": "general"}
    opening = await model.generate(GenerationRequest(ModelTask.OPENING, "", [], hints=hints))
    reply = await model.generate(
        GenerationRequest(ModelTask.CONVERSATION_TURN, "", [ChatMessage("user", "おはようございます")], hints=hints)
    )
    assert opening.text.startswith("おはよう。")
    assert reply.text.startswith("おはよう。")
    assert "のことのこと" not in opening.text + reply.text


async def test_watch_lines_do_not_double_the_honorific() -> None:
    hints = {"speaker": "太郎さん", "other_speaker": "花子さん", "topic": "新しい企画"}
    line = await SimpleModel().generate(GenerationRequest(ModelTask.WATCH_LINE, "", [], hints=hints))
    assert line.text.startswith("花子さん、新しい企画について")
