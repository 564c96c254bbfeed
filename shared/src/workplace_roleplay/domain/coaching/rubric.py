"""The six-axis rubric: yes/no checks a grader can verify, each passed only with a quoted learner line.

Axes (legacy names kept): 共感力 empathy, 明確な伝達力 clarity, 傾聴力 active_listening, 適応力 adaptability,
前向きさ positivity, プロフェッショナリズム professionalism. An axis score is the share of its checks
passed with evidence, so the same judgements always give the same scores (notes/product.md §3.4:
graders agree on narrow binary items, not on fine scales).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workplace_roleplay.domain.coaching import analysis as coaching

AXES: dict[str, str] = {
    "empathy": "共感力",
    "clarity": "明確な伝達力",
    "active_listening": "傾聴力",
    "adaptability": "適応力",
    "positivity": "前向きさ",
    "professionalism": "プロフェッショナリズム",
}


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    axis: str
    question: str  # the yes/no judgement, in Japanese
    tip: str  # what to try when it was not met


CHECKS: tuple[Check, ...] = (
    Check(
        "E1",
        "empathy",
        "相手の気持ちや状況を気づかう言葉をかけたか",
        "「大変でしたね」など相手の状況に触れるひと言を添える",
    ),
    Check("E2", "empathy", "相手の話に感想や共感を返したか", "相手の話に「いいですね」「わかります」と感想を返す"),
    Check("C1", "clarity", "自分の考えや経験を具体的に伝えたか", "自分の経験を具体的なひと言（いつ・何を）で話す"),
    Check("C2", "clarity", "要点がわかる長さで話したか", "一文を短くし、言いたいことを先に伝える"),
    Check("L1", "active_listening", "相手に質問をして話を広げたか", "相手の話からひとつ質問を返す"),
    Check("L2", "active_listening", "相手の直前の発言を受けて答えたか", "相手の言葉を少し繰り返してから答える"),
    Check(
        "A1", "adaptability", "相手の立場に合った言葉づかいを選んだか", "相手の立場に合わせて「です・ます」を使い分ける"
    ),
    Check("A2", "adaptability", "相手の問いかけにきちんと答えたか", "質問されたら、まず短く答えてから話を広げる"),
    Check(
        "P1",
        "positivity",
        "前向きな言葉や感謝を伝えたか",
        "「ありがとうございます」「楽しみです」と前向きな言葉を入れる",
    ),
    Check("P2", "positivity", "否定的な言い方を避けたか", "否定の言葉を「〜だともっと良いですね」に言い換える"),
    Check("R1", "professionalism", "挨拶やお礼など基本の礼儀を示したか", "会話の始めと終わりに挨拶やお礼を入れる"),
    Check("R2", "professionalism", "職場にふさわしい話題と表現を保ったか", "プライベートに踏み込みすぎない話題を選ぶ"),
)
CHECKS_BY_ID = {check.id: check for check in CHECKS}

_EMPATHY_CARE = re.compile(r"大変|お疲れ|大丈夫|無理しない|気をつけ|体調|お忙しい")
_EMPATHY_ECHO = re.compile(r"いいですね|いいね|わかります|わかる|なるほど|そうなんですね|確かに|素敵|すごい")
_SELF = re.compile(r"私|僕|自分|わたし|うち|週末|昨日|最近|と思")
_POSITIVE = re.compile(r"ありがと|嬉し|楽しみ|楽し|いいです|助か|よかった|頑張")
_NEGATIVE = re.compile(r"最悪|嫌い|むかつ|ムカ|うざ|だるい|つまらな|くだらな")
_GREETING = re.compile(r"おはよう|お疲れ|ありがと|失礼|よろしく|こんにちは|こんばんは|お先に")
_PRIVATE = re.compile(r"給料|年収|恋人|彼女|彼氏|結婚|宗教|政治|住所")


@dataclass(frozen=True, slots=True)
class Judgement:
    check_id: str
    passed: bool
    evidence: str  # a verbatim learner line (or part of one); "" when there is none


def _first(lines: Sequence[str], test: Callable[[str], bool]) -> str:
    return next((line for line in lines if test(line)), "")


def rule_based_judgements(learner_lines: Sequence[str], counterpart_lines: Sequence[str], rank: str) -> list[Judgement]:
    """Offline judgements (simple-response mode): the checks that can be read off the lines themselves."""
    lines = [line.strip() for line in learner_lines if line.strip()]
    asked = [line for line in counterpart_lines if coaching.is_question(line)]

    def has(pattern: re.Pattern[str]) -> str:
        return _first(lines, lambda line: bool(pattern.search(line)))

    fitting = [line for line in lines if coaching.fit_for(coaching.politeness_of(line), rank) == "good"]
    short = [line for line in lines if len(line) <= 80]
    negative = has(_NEGATIVE)
    private = has(_PRIVATE)
    results = {
        "E1": has(_EMPATHY_CARE),
        "E2": has(_EMPATHY_ECHO),
        "C1": _first(lines, lambda line: len(line) >= 12 and bool(_SELF.search(line))),
        "C2": short[0] if lines and len(short) == len(lines) else "",
        "L1": _first(lines, coaching.is_question),
        "L2": _first(lines, lambda line: any(_shares_words(line, c) for c in counterpart_lines)),
        "A1": fitting[0] if lines and len(fitting) == len(lines) else "",
        "A2": _first(lines, lambda line: len(line) >= 4) if asked else "",
        "P1": has(_POSITIVE),
        "P2": lines[0] if lines and not negative else "",
        "R1": has(_GREETING),
        "R2": lines[0] if lines and not private else "",
    }
    return [Judgement(cid, bool(evidence), evidence) for cid, evidence in results.items()]


def _shares_words(line: str, other: str) -> bool:
    # Two learner/counterpart lines "connect" when they share a 3-character run of content (kanji/katakana).
    runs = set(re.findall(r"[\u4e00-\u9fff\u30a0-\u30ff]{2,}", other))
    return any(run in line for run in runs)


def scores(judgements: Sequence[Judgement], learner_lines: Sequence[str]) -> dict[str, int]:
    """0-100 per axis: the share of its checks passed with evidence found in the learner's own lines."""
    passed: dict[str, int] = dict.fromkeys(AXES, 0)
    total: dict[str, int] = dict.fromkeys(AXES, 0)
    for judgement in judgements:
        check = CHECKS_BY_ID.get(judgement.check_id)
        if check is None:
            continue
        total[check.axis] += 1
        if judgement.passed and quoted(judgement.evidence, learner_lines):
            passed[check.axis] += 1
    return {axis: round(100 * passed[axis] / total[axis]) if total[axis] else 0 for axis in AXES}


def quoted(evidence: str, learner_lines: Sequence[str]) -> bool:
    """True when ``evidence`` is really (part of) something the learner said."""
    needle = evidence.strip().strip("「」\"'")
    return bool(needle) and any(needle in line for line in learner_lines)
