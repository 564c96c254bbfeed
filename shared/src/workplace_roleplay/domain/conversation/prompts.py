"""The system prompt of one character: shared style rules, the mode's brief, who else is present,
the older-turn summary and remembered facts. The coach and grader prompts live in ``coaching/``,
apart from every character's prompt."""

from __future__ import annotations

from collections.abc import Sequence

from workplace_roleplay.domain.conversation.cast import Participant
from workplace_roleplay.domain.conversation.mode import ConversationMode
from workplace_roleplay.domain.conversation.records import Conversation

# Counterpart style rules shared by every mode: short spoken lines keep the practice conversational.
COUNTERPART_RULES = """\
あなたは職場コミュニケーション練習アプリの会話相手役です。以下を必ず守ってください。
- 設定された人物として、自然な日本語の話し言葉で返答する（1〜3文、長くても120文字程度）。
- 相手（学習者）の発言に具体的に反応し、ときどき質問を返して会話を続ける。
- 指導・採点・解説はしない（それは別のコーチ役が行う）。役を降りない。
- 個人情報や機密情報を求めない。差別的・攻撃的な表現は使わない。"""


def counterpart_system(
    mode: ConversationMode,
    conv: Conversation,
    speaker: Participant,
    *,
    rolling_summary: str = "",
    memories: Sequence[str] = (),
) -> str:
    """``speaker``'s system prompt: rules, its brief, the other characters, summary and memories."""
    parts = [COUNTERPART_RULES, "", "# 設定", mode.brief(conv, speaker)]
    others = [c.name for c in mode.cast(conv).characters if c.name != speaker.name]
    if others:
        parts += ["", "# 同じ場にいる他の人物", *(f"- {name}" for name in others)]
        parts.append(f"（あなたは「{speaker.name}」の発言だけを返す。他の人物の発言は書かない）")
    if rolling_summary:
        parts += ["", "# これまでの会話の要約（古い部分）", rolling_summary]
    if memories:
        parts += ["", "# 以前の会話から覚えている相手（学習者）のこと"]
        parts += [f"- {m}" for m in memories]
        parts.append("（自然に話題に出せるときだけ触れる。無理に持ち出さない）")
    return "\n".join(parts)
