"""Live coaching of one learner turn: feeling, keigo fit for the counterpart, one advice line, one rephrasing.

Sparse on purpose (research in notes/product.md: dense live dashboards hurt learning): one card per
turn, never more than one advice line. The model grades at temperature 0 with a JSON schema; in the
simple-response mode a rule-based reading of the line gives an honest, reduced card instead.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

Politeness = Literal["casual", "polite", "honorific"]
Fit = Literal["good", "too_casual", "too_formal"]

_HONORIFIC = re.compile(r"いただ|いたし|ございま|申し|存じ|伺|おっしゃ|いらっしゃ|恐れ入|拝見|参ります|承知|かしこま")
_POLITE = re.compile(r"です|ます|ました|まして|でした|ましょう|ください|ません")
_POSITIVE = re.compile(r"ありがと|嬉し|うれし|楽し|いいです|いいね|素敵|すごい|最高|好き|助か|よかった|なるほど")
_NEGATIVE = re.compile(r"疲れ|つら|辛い|嫌|いや|無理|だる|最悪|困|心配|不安|ムカ|イライラ")
_QUESTION = re.compile(r"[?？]|(?:ですか|ますか|ました?か|かな)[。\s]*$")

# The lowest and highest keigo level that fits each counterpart rank (casual < polite < honorific).
_LEVELS: dict[str, int] = {"casual": 0, "polite": 1, "honorific": 2}
_EXPECTED: dict[str, tuple[int, int]] = {
    "peer": (0, 1),
    "junior": (0, 1),
    "senior": (1, 2),
    "boss": (1, 2),
    "client": (1, 2),
}


class TurnAnalysis(BaseModel):
    """The coaching card of one learner line."""

    sentiment: float = Field(ge=-1.0, le=1.0, description="気持ちの明るさ（-1 否定的 … 1 前向き）")
    emotion: str = Field(max_length=20, description="学習者の発言から読み取れる気持ち（日本語のひと言）")
    politeness: Politeness = Field(description="学習者の発言の敬語レベル")
    politeness_fit: Fit = Field(description="相手の立場に対して敬語レベルが合っているか")
    tone: str = Field(max_length=40, description="口調のひと言評価")
    advice: str = Field(max_length=80, description="次の発言で試すとよいこと（1文）")
    better_phrasing: str = Field(max_length=120, description="より良い言い方の例（不要なら空）")


COACH_SYSTEM = """\
あなたは職場コミュニケーションのコーチです。会話相手とは別人で、学習者の直近の発言1つだけを評価します。
- 相手の立場: {rank_ja}。期待される敬語レベル: {expected_ja}。
- sentiment は -1〜1、emotion は日本語のひと言、politeness は casual/polite/honorific。
- advice は励ましを含む具体的な1文。better_phrasing は同じ意図をより自然・適切に言い換えた1文（十分良ければ空）。
- 発言に書かれていないことを推測で評価しない。JSONのみを返す。"""

RANK_JA = {"peer": "同僚", "junior": "後輩", "senior": "先輩", "boss": "上司", "client": "取引先"}
_EXPECTED_JA = {(0, 1): "くだけた言い方〜丁寧語", (1, 2): "丁寧語〜尊敬語・謙譲語"}


def coach_system(rank: str) -> str:
    expected = _EXPECTED.get(rank, (0, 1))
    return COACH_SYSTEM.format(rank_ja=RANK_JA.get(rank, "同僚"), expected_ja=_EXPECTED_JA[expected])


def politeness_of(text: str) -> Politeness:
    if _HONORIFIC.search(text):
        return "honorific"
    if _POLITE.search(text):
        return "polite"
    return "casual"


def fit_for(level: Politeness, rank: str) -> Fit:
    low, high = _EXPECTED.get(rank, (0, 1))
    value = _LEVELS[level]
    if value < low:
        return "too_casual"
    if value > high:
        return "too_formal"
    return "good"


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text.strip()))


def rule_based_analysis(text: str, rank: str) -> TurnAnalysis:
    """The simple-mode card: what can be read off the line without a model (no rephrasing)."""
    level = politeness_of(text)
    fit = fit_for(level, rank)
    positive, negative = len(_POSITIVE.findall(text)), len(_NEGATIVE.findall(text))
    total = positive + negative
    sentiment = 0.0 if total == 0 else round((positive - negative) / total, 2)
    emotion = "前向き" if sentiment > 0.2 else "つらそう" if sentiment < -0.2 else "落ち着いている"
    if fit == "too_casual":
        advice = f"{RANK_JA.get(rank, '相手')}には「です・ます」を使うと、より安心して話してもらえます。"
        tone = "くだけすぎかもしれません"
    elif fit == "too_formal":
        advice = "少しくだけた言い方にすると、距離が縮まりやすくなります。"
        tone = "やや硬めです"
    elif not is_question(text):
        advice = "相手に質問をひとつ返すと、会話が続きやすくなります。"
        tone = "相手に合った言葉づかいです"
    else:
        advice = "質問で話を広げられています。相手の答えに感想も添えてみましょう。"
        tone = "相手に合った言葉づかいです"
    return TurnAnalysis(
        sentiment=sentiment,
        emotion=emotion,
        politeness=level,
        politeness_fit=fit,
        tone=tone,
        advice=advice,
        better_phrasing="",
    )


def analysis_payload(analysis: TurnAnalysis, *, simple_mode: bool, model: str) -> dict[str, Any]:
    """What is stored on the learner message and sent as the ``analysis`` event."""
    return {**analysis.model_dump(), "simple_mode": simple_mode, "model": model}
