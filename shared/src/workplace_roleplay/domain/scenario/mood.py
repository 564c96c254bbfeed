"""The counterpart's inner state per turn: trust, irritation and anxiety (0-100), and why each line moved them.

Rule-based, deterministic and labelled as such (ADR 0029): each learner line is matched against a short
list of explicit rules (an apology eases irritation, an excuse raises it, a plan eases anxiety...), every
rule that fires adds its fixed change and its reason. The same lines always give the same timeline, so the
timeline is recomputed from the stored learner lines when read and stored inside the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workplace_roleplay.domain.coaching import analysis as coaching
from workplace_roleplay.domain.scenario.model import Category, Scenario

BASIS = "rules"
NOTICE = "相手の気持ちは、あなたの発言に含まれる表現から決まったルールで推定した目安です（AIの判断ではありません）。"
DIMENSIONS = ("trust", "irritation", "anxiety")
LABELS = {"trust": "信頼", "irritation": "いらだち", "anxiety": "不安"}


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    test: Callable[[str, str], bool]  # (learner line, counterpart rank) -> fires
    delta: dict[str, int]
    reason: str


def _has(pattern: str) -> Callable[[str, str], bool]:
    compiled = re.compile(pattern)
    return lambda line, _rank: bool(compiled.search(line))


RULES: tuple[Rule, ...] = (
    Rule(
        "apology",
        _has(r"申し訳|すみません|失礼しました|お詫び|おわび|ごめん"),
        {"trust": 8, "irritation": -10},
        "はっきり謝ったので、相手のいらだちが和らいだ",
    ),
    Rule(
        "thanks",
        _has(r"ありがと|感謝|助かり"),
        {"trust": 6, "irritation": -4},
        "感謝を伝えたので、相手は受け止めてもらえたと感じた",
    ),
    Rule(
        "empathy",
        _has(r"大変|お気持ち|わかります|無理しない|心配|お疲れ|つらい|辛い"),
        {"trust": 8, "anxiety": -8},
        "相手の状況を気づかったので、安心感が増した",
    ),
    Rule(
        "conclusion_first",
        _has(r"^(結論|ご報告|報告があ|まず結論|先に結論)"),
        {"trust": 6, "anxiety": -6},
        "結論から話したので、相手は状況をすぐにつかめた",
    ),
    Rule(
        "plan",
        _has(r"までに|今日中|本日中|明日|対策|再発|確認します|対応します|いたします|修正します"),
        {"trust": 6, "anxiety": -10},
        "次に何をするかを示したので、相手の不安が減った",
    ),
    Rule(
        "question",
        lambda line, _rank: coaching.is_question(line),
        {"trust": 4, "anxiety": -4},
        "相手の考えを尋ねたので、話を聞いてもらえると感じた",
    ),
    Rule(
        "excuse",
        _has(r"でも|だって|しかし|仕方(が)?な|私のせいでは|言われてない|聞いてない|知らなかった"),
        {"trust": -8, "irritation": 12},
        "言い訳や反論に聞こえたので、相手のいらだちが増した",
    ),
    Rule(
        "harsh",
        _has(r"お前|しろよ|やれよ|ふざけ|バカ|ばか|使えない|最悪|うざ|むかつ"),
        {"trust": -12, "irritation": 18, "anxiety": 10},
        "きつい言葉だったので、相手は身構えた",
    ),
    Rule(
        "too_casual",
        lambda line, rank: coaching.fit_for(coaching.politeness_of(line), rank) == "too_casual",
        {"trust": -4, "irritation": 8},
        "立場が上の相手にくだけた言い方だったので、失礼に感じられた",
    ),
    Rule(
        "too_short",
        lambda line, _rank: len(line.strip()) < 8,
        {"anxiety": 6},
        "短すぎて意図が伝わらず、相手は戸惑った",
    ),
)
NO_CHANGE = "気持ちを動かす表現は見つかりませんでした（変化なし）"


@dataclass(frozen=True, slots=True)
class MoodPoint:
    """The counterpart's state after one learner line, with the line that moved it and why."""

    turn: int  # 1-based learner turn; 0 is the starting state
    message_id: str
    line: str
    state: dict[str, int]
    delta: dict[str, int] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        biggest = max(self.delta.items(), key=lambda kv: abs(kv[1]), default=("", 0))
        return {
            "turn": self.turn,
            "message_id": self.message_id,
            "line": self.line,
            **self.state,
            "delta": dict(self.delta),
            "swing": {"dimension": biggest[0], "change": biggest[1]} if biggest[1] else None,
            "reasons": list(self.reasons),
            "rules": list(self.rules),
            "basis": BASIS,
        }


def baseline(scenario: Scenario) -> dict[str, int]:
    """The counterpart's state before the learner speaks: sensitive scenarios start more anxious."""
    if scenario.category is Category.REGULAR:
        return {"trust": 50, "irritation": 20, "anxiety": 30}
    return {"trust": 45, "irritation": 20, "anxiety": 55}


def _clamp(value: int) -> int:
    return max(0, min(100, value))


def appraise(scenario: Scenario, rank: str, lines: Sequence[tuple[str, str]]) -> list[MoodPoint]:
    """The timeline: the starting state, then one point per learner line ``(message_id, text)``, oldest first."""
    state = baseline(scenario)
    points = [MoodPoint(0, "", "", dict(state))]
    for turn, (message_id, text) in enumerate(lines, start=1):
        fired = [rule for rule in RULES if rule.test(text.strip(), rank)]
        delta: dict[str, int] = {}
        for rule in fired:
            for dim, change in rule.delta.items():
                delta[dim] = delta.get(dim, 0) + change
        new = {dim: _clamp(state[dim] + delta.get(dim, 0)) for dim in DIMENSIONS}
        actual = {dim: new[dim] - state[dim] for dim in DIMENSIONS if new[dim] != state[dim]}
        reasons = tuple(rule.reason for rule in fired) or (NO_CHANGE,)
        points.append(MoodPoint(turn, message_id, text, new, actual, reasons, tuple(r.name for r in fired)))
        state = new
    return points
