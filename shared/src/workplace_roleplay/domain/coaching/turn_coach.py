"""The coaching card of one learner line, made beside the characters' replies (never in their prompts)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from workplace_roleplay.domain.coaching import analysis as coaching
from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Message, Role
from workplace_roleplay.ports.model import ChatMessage, GenerationMode, GenerationRequest, LanguageModel, ModelTask

log = logging.getLogger("workplace_roleplay.turns")

ANALYSIS_TIMEOUT_S = 20.0


async def analyse_line(
    *,
    model: LanguageModel,
    repo: ConversationRepository,
    conv: Conversation,
    learner: Message,
    history: Sequence[Message],
    rank: str,
    hints: Mapping[str, str],
) -> dict[str, Any] | None:
    """The coaching card of ``learner``, stored on the message; the rule-based card if the model fails."""
    previous = next((m.text for m in reversed(history) if m.role is Role.COUNTERPART), "")
    messages = [ChatMessage(role="user", text=f"相手の直前の発言: {previous}\n学習者の発言: {learner.text}")]
    request = GenerationRequest(
        task=ModelTask.TURN_ANALYSIS,
        system=coaching.coach_system(rank),
        messages=messages,
        temperature=0.0,
        hints={**hints, "last_learner_line": learner.text, "partner_rank": rank},
        user_id=conv.user_id,
    )
    try:
        result = await asyncio.wait_for(model.generate_structured(request, coaching.TurnAnalysis), ANALYSIS_TIMEOUT_S)
    except Exception as exc:  # coaching is an extra: any failure falls back to the rule-based card
        log.warning("turn analysis fell back to rules", extra={"error": type(exc).__name__})
        payload = coaching.analysis_payload(
            coaching.rule_based_analysis(learner.text, rank), simple_mode=True, model=""
        )
    else:
        simple = result.completion.mode is GenerationMode.SIMPLE
        value = coaching.rule_based_analysis(learner.text, rank) if simple else result.value
        payload = coaching.analysis_payload(value, simple_mode=simple, model=result.completion.model)
    await repo.set_analysis(conv, learner.id, payload)
    return payload
