"""The pieces every counterpart prompt is built from, and the cast protocol each mode implements.

Chat, scenario and watch differ only in their cast (who speaks, where, about what); the turn pipeline
asks the cast for those pieces and assembles the rest (style rules, summary, memories) here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from workplace_roleplay.domain.conversation.records import Conversation


class Cast(Protocol):
    """What a mode supplies to the shared turn pipeline."""

    mode: str

    def counterpart_name(self, conv: Conversation) -> str:
        """The counterpart's display name (speaker of its lines)."""
        ...

    def counterpart_brief(self, conv: Conversation) -> str:
        """Who the counterpart is, the scene and the topic, in Japanese (the core of its prompt)."""
        ...

    def opening_instruction(self, conv: Conversation) -> str:
        """The instruction that makes the counterpart open the conversation."""
        ...

    def partner_rank(self, conv: Conversation) -> str:
        """How the counterpart relates to the learner (peer/senior/junior/boss/client): keigo expectations."""
        ...

    def hints(self, conv: Conversation) -> Mapping[str, str]:
        """Structured context for the simple-response mode (it does not read prompts)."""
        ...


# Counterpart style rules shared by every mode: short spoken lines keep the practice conversational.
COUNTERPART_RULES = """\
あなたは職場コミュニケーション練習アプリの会話相手役です。以下を必ず守ってください。
- 設定された人物として、自然な日本語の話し言葉で返答する（1〜3文、長くても120文字程度）。
- 相手（学習者）の発言に具体的に反応し、ときどき質問を返して会話を続ける。
- 指導・採点・解説はしない（それは別のコーチ役が行う）。役を降りない。
- 個人情報や機密情報を求めない。差別的・攻撃的な表現は使わない。"""


def counterpart_system(
    cast: Cast,
    conv: Conversation,
    *,
    rolling_summary: str = "",
    memories: Sequence[str] = (),
) -> str:
    """The counterpart's system prompt: rules, cast brief, older-turn summary and remembered facts."""
    parts = [COUNTERPART_RULES, "", "# 設定", cast.counterpart_brief(conv)]
    if rolling_summary:
        parts += ["", "# これまでの会話の要約（古い部分）", rolling_summary]
    if memories:
        parts += ["", "# 以前の会話から覚えている相手（学習者）のこと"]
        parts += [f"- {m}" for m in memories]
        parts.append("（自然に話題に出せるときだけ触れる。無理に持ち出さない）")
    return "\n".join(parts)
