"""The counterpart's mood rules and the graduated hints: deterministic, explained, built from the scenario."""

from __future__ import annotations

from workplace_roleplay.domain.scenario import hints, mood
from workplace_roleplay.domain.scenario.catalog import load_catalog

CATALOG = load_catalog()
REPORT = CATALOG.get("report_own_mistake")


def test_each_line_moves_the_state_by_its_rules_and_says_why() -> None:
    lines = [
        ("a", "ご報告があります。請求書の金額を間違えました。"),
        ("b", "でも、時間がなかったんです。"),
        ("c", "申し訳ありません。本日中に訂正版を送ります。"),
        ("d", "はい"),
    ]
    points = mood.appraise(REPORT, "boss", lines)
    assert [p.turn for p in points] == [0, 1, 2, 3, 4]
    assert points[0].state == mood.baseline(REPORT)
    assert points[1].rules == ("conclusion_first",)
    assert points[1].delta == {"trust": 6, "anxiety": -6}
    assert "excuse" in points[2].rules
    assert points[2].delta["irritation"] > 0
    assert {"apology", "plan"} <= set(points[3].rules)
    assert points[3].delta["irritation"] < 0
    assert "too_short" in points[4].rules
    assert all(p.reasons for p in points[1:])
    assert mood.appraise(REPORT, "boss", lines) == points  # the same lines, the same timeline


def test_the_state_stays_within_0_and_100_and_names_its_biggest_swing() -> None:
    harsh = [(str(n), "ふざけるな、お前のせいだ。でも仕方ない") for n in range(12)]
    points = mood.appraise(REPORT, "peer", harsh)
    assert all(0 <= v <= 100 for p in points for v in p.state.values())
    assert points[-1].state["irritation"] == 100
    swing = points[1].as_dict()["swing"]
    assert swing == {"dimension": "irritation", "change": 30}
    # Saturated: the rules still fire, the state cannot move further, so no swing is claimed.
    assert points[-1].rules == points[1].rules
    assert points[-1].delta == {}
    assert points[-1].as_dict()["swing"] is None


def test_a_line_without_any_rule_changes_nothing_and_says_so() -> None:
    (point,) = mood.appraise(REPORT, "peer", [("x", "そうだね、今日は晴れているね")])[1:]
    assert point.delta == {}
    assert point.reasons == (mood.NO_CHANGE,)
    assert point.as_dict()["swing"] is None


def test_hints_rise_from_nudge_to_structure_to_an_example_line() -> None:
    got = [hints.hint_for(REPORT, level_index=i, learner_turn=0) for i in range(4)]
    assert [h.level for h in got] == ["nudge", "structure", "example", "example"]
    assert REPORT.learning_points[0] in got[0].text
    assert got[1].text == hints.STRUCTURES["report"]
    assert hints.EXAMPLES["report"] in got[2].text


def test_every_scenario_gets_hints_of_a_fitting_kind() -> None:
    kinds = {s.id: hints.kind_of(s) for s in CATALOG.scenarios}
    assert kinds["report_own_mistake"] == "report"
    assert set(kinds.values()) <= set(hints.STRUCTURES)
    assert len(set(kinds.values())) >= 4
    for scenario in CATALOG.scenarios:
        for level in range(3):
            text = hints.hint_for(scenario, level_index=level, learner_turn=5).text
            assert text
            assert "のことのこと" not in text
