"""The rolling summary of turns that no longer fit the prompt, refreshed in the background."""

from __future__ import annotations

from collections.abc import Sequence

from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Message, Role
from workplace_roleplay.ports.model import ChatMessage, GenerationMode, GenerationRequest, LanguageModel, ModelTask

SUMMARY_SYSTEM = """\
職場の雑談練習の古い部分を、会話相手が続きを自然に話せるように要約してください。
既存の要約があればそれに新しい内容を統合し、話題・学習者が話した事実・約束を残して、300文字以内の日本語で書く。"""

MAX_SUMMARY_CHARS = 600


def extractive_summary(previous: str, older: Sequence[Message]) -> str:
    """Offline summary (simple-response mode): the start of every older line, newest kept when too long."""
    lines = [previous] if previous else []
    for message in older:
        who = "学習者" if message.role is Role.LEARNER else "相手"
        lines.append(f"{who}: {message.text.strip().replace(chr(10), ' ')[:40]}")
    text = "\n".join(lines)
    return text[-MAX_SUMMARY_CHARS:]


async def refresh(
    repo: ConversationRepository, model: LanguageModel, conv: Conversation, older: Sequence[Message]
) -> None:
    """Fold the messages newer than the stored summary (and older than the window) into it."""
    fresh = [m for m in older if m.created_at > conv.summary_through]
    if not fresh:
        return
    transcript = [ChatMessage(role="user" if m.role is Role.LEARNER else "model", text=m.text) for m in fresh]
    system = SUMMARY_SYSTEM + (f"\n\n# 既存の要約\n{conv.rolling_summary}" if conv.rolling_summary else "")
    completion = await model.generate(
        GenerationRequest(
            task=ModelTask.SUMMARY,
            system=system,
            messages=transcript,
            temperature=0.0,
            hints={"mode": conv.mode, "purpose": "rolling_summary"},
            user_id=conv.user_id,
        )
    )
    text = completion.text.strip()
    if completion.mode is GenerationMode.SIMPLE or not text:
        text = extractive_summary(conv.rolling_summary, fresh)
    await repo.set_rolling_summary(conv, text[:MAX_SUMMARY_CHARS], through=fresh[-1].created_at)
