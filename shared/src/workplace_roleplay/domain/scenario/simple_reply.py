"""Scenario-aware replies for the simple-response mode (offline, deterministic, honest).

Built only from the scenario's own data: the counterpart's opening line (or the situation card when the
learner speaks first), the scenario's follow-up lines in order, and its reactions to what the learner's
last line does (apology, thanks, refusal, question, report), falling back to short defaults worded for
the counterpart's rank. The same conversation state always gives the same line.

``scenario_reply`` is what the engine (and the simple model adapter, given a ``scenario_id`` hint) calls;
``every_line`` renders every line this module can produce for a scenario, for the known-bad-pattern test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from workplace_roleplay.domain.scenario.model import Reactions, Scenario
from workplace_roleplay.domain.scenario.roster import Rank, Roster

Kind = Literal["apology", "thanks", "refusal", "question", "report"]
Voice = Literal["superior", "subordinate", "peer", "client"]

_KINDS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("apology", re.compile(r"申し訳|すみません|すいません|ごめん|失礼しました|おわび|お詫び")),
    ("thanks", re.compile(r"ありがとう|助かり|感謝")),
    ("refusal", re.compile(r"できません|難しい|厳しい|お断り|無理|遠慮|見送")),
    ("report", re.compile(r"報告|ご相談|相談|ミス|遅れ|間違|トラブル|問題")),
    ("question", re.compile(r"[?？]$|ですか$|ますか$|でしょうか$|かな$|ますでしょうか$")),
)
_VOICE_OF_RANK: dict[Rank, Voice] = {
    Rank.EXECUTIVE: "superior",
    Rank.BOSS: "superior",
    Rank.SENIOR: "superior",
    Rank.STAFF: "client",
    Rank.PEER: "peer",
    Rank.FRIEND: "peer",
    Rank.JUNIOR: "subordinate",
    Rank.CLIENT: "client",
}
# Short defaults by the counterpart's voice, used when a scenario has no reaction of that kind.
DEFAULT_REACTIONS: dict[Voice, dict[Kind, tuple[str, ...]]] = {
    "superior": {
        "apology": ("わかった。まずは何が起きたのか、順番に教えてくれるかな。",),
        "thanks": ("どういたしまして。ほかに気になることはある？",),
        "refusal": ("そうか、事情はわかった。代わりにできそうなことはあるかな。",),
        "question": ("いい質問だね。君はどう考えている？",),
        "report": ("報告ありがとう。結論から聞かせてくれる？",),
    },
    "subordinate": {
        "apology": ("いえ、こちらこそすみません。",),
        "thanks": ("ありがとうございます。そう言っていただけると助かります。",),
        "refusal": ("そうですか……わかりました。",),
        "question": ("そうですね……少し考えさせてください。",),
        "report": ("はい、わかりました。",),
    },
    "peer": {
        "apology": ("ううん、大丈夫だよ。",),
        "thanks": ("どういたしまして。",),
        "refusal": ("そっか、わかった。",),
        "question": ("うーん、どうだろうね。",),
        "report": ("なるほど、そういうことか。",),
    },
    "client": {
        "apology": ("ご丁寧にありがとうございます。",),
        "thanks": ("こちらこそ、ありがとうございます。",),
        "refusal": ("承知しました。事情はよくわかりました。",),
        "question": ("そうですね、少し考えてみます。",),
        "report": ("ご連絡ありがとうございます。",),
    },
}
CLOSINGS: dict[Voice, str] = {
    "superior": "ここまでの話で、次にやることは整理できたかな。",
    "subordinate": "お話しいただいて、次にやることがわかりました。",
    "peer": "話せてよかった。じゃあ、またあとでね。",
    "client": "本日はありがとうございました。引き続きよろしくお願いいたします。",
}


def voice_of(scenario: Scenario, roster: Roster) -> Voice:
    """How the counterpart who speaks first addresses the learner (by the character's rank)."""
    return _VOICE_OF_RANK[roster.character(main_counterpart(scenario)).rank]


def main_counterpart(scenario: Scenario) -> str:
    return scenario.opening.speaker or scenario.counterparts[0]


def classify(line: str) -> Kind | None:
    """What the learner's line does (first match wins), or None."""
    text = line.strip().rstrip("。.!！ ")
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return None


def opening_text(scenario: Scenario) -> str:
    """The first thing shown: the counterpart's line, or the situation card when the learner starts."""
    return scenario.opening.line or scenario.opening.card or ""


def _reaction(reactions: Reactions, kind: Kind) -> tuple[str, ...]:
    options: tuple[str, ...] = getattr(reactions, kind)
    return options


def scenario_reply(scenario: Scenario, roster: Roster, learner_lines: Sequence[str]) -> str:
    """The counterpart's next line after the learner's ``learner_lines`` (oldest first).

    No learner line yet: the opening. Otherwise a scenario reaction when the last line is an apology,
    thanks, refusal, question or report the scenario answers specifically; else the next follow-up line
    in order; after the last follow-up, a closing line in the counterpart's voice.
    """
    lines = [line for line in learner_lines if line.strip()]
    if not lines:
        return opening_text(scenario)
    turn = len(lines)
    kind = classify(lines[-1])
    if kind is not None:
        specific = _reaction(scenario.reactions, kind)
        if specific:
            return specific[(turn - 1) % len(specific)]
    index = turn - 1
    if index < len(scenario.follow_ups):
        return scenario.follow_ups[index]
    voice = voice_of(scenario, roster)
    if kind is not None:
        return DEFAULT_REACTIONS[voice][kind][0]
    return CLOSINGS[voice]


def every_line(scenario: Scenario, roster: Roster) -> list[str]:
    """Every line ``scenario_reply`` can produce for this scenario (for the known-bad-pattern test)."""
    voice = voice_of(scenario, roster)
    lines = [opening_text(scenario), *scenario.follow_ups, CLOSINGS[voice]]
    for kind in ("apology", "thanks", "refusal", "question", "report"):
        lines += _reaction(scenario.reactions, kind)
        lines += DEFAULT_REACTIONS[voice][kind]
    return lines
