"""Scenario-aware simple-mode replies: the opening, follow-ups in order, the scenario's own reactions,
then a closing in the counterpart's voice; deterministic."""

from __future__ import annotations

from workplace_roleplay.domain.scenario.catalog import load_catalog
from workplace_roleplay.domain.scenario.simple_reply import (
    CLOSINGS,
    classify,
    every_line,
    opening_text,
    scenario_reply,
    voice_of,
)

CATALOG = load_catalog()
ROSTER = CATALOG.roster


def test_opening_is_the_counterparts_line_or_the_situation_card() -> None:
    boss_first = CATALOG.get("vague_request_from_boss")
    assert scenario_reply(boss_first, ROSTER, []) == boss_first.opening.line
    learner_first = CATALOG.get("report_own_mistake")
    assert scenario_reply(learner_first, ROSTER, []) == learner_first.opening.card
    assert opening_text(learner_first).startswith("今朝、")


def test_follow_ups_come_in_order_then_a_closing_in_the_counterparts_voice() -> None:
    s = CATALOG.get("break_room_small_talk")
    lines: list[str] = []
    said: list[str] = []
    for n in range(len(s.follow_ups) + 1):
        said.append(f"そうなんだね、{n}回目の話。")
        lines.append(scenario_reply(s, ROSTER, said))
    assert lines[: len(s.follow_ups)] == list(s.follow_ups)
    assert lines[-1] == CLOSINGS["peer"]
    assert voice_of(s, ROSTER) == "peer"


def test_the_scenarios_own_reactions_answer_an_apology_or_a_report() -> None:
    s = CATALOG.get("contract_deadline_tomorrow")
    apology = scenario_reply(s, ROSTER, ["申し訳ありません、締切を勘違いしていました。"])
    assert apology == s.reactions.apology[0]
    report = scenario_reply(s, ROSTER, ["ご報告があります。契約書の締切が明日でした。"])
    assert report == s.reactions.report[0]
    assert classify("お断りします") == "refusal"
    assert classify("いつまでですか") == "question"
    assert classify("はい") is None


def test_replies_are_deterministic_and_every_line_is_listed() -> None:
    s = CATALOG.get("report_misdirected_email")
    said = ["部長、ご報告です。", "送信先を間違えました。"]
    assert scenario_reply(s, ROSTER, said) == scenario_reply(s, ROSTER, list(said))
    produced = {scenario_reply(s, ROSTER, said[:n]) for n in range(3)}
    assert produced <= set(every_line(s, ROSTER))


def test_prompt_pieces_name_the_character_scene_and_learner() -> None:
    from workplace_roleplay.domain.scenario.prompt import counterpart_brief, model_hints, opening_instruction

    s = CATALOG.get("late_arrival_meeting")
    brief = counterpart_brief(s, ROSTER)
    assert "鈴木 美咲" in brief
    assert s.situation in brief
    assert s.learner.role in brief
    assert "佐藤さん" in brief  # the other person on stage
    opening = opening_instruction(s)
    assert opening is not None
    assert str(s.opening.line) in opening
    assert opening_instruction(CATALOG.get("report_own_mistake")) is None  # the learner starts
    assert model_hints(s, ROSTER)["scenario_id"] == s.id
