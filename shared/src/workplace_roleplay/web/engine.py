"""The conversation engine of one service, in one mode, over that service's resources (chat, scenario, watch)."""

from __future__ import annotations

from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.conversation.mode import ConversationMode
from workplace_roleplay.domain.conversation.service import ConversationService, EngineContext, EngineOptions
from workplace_roleplay.settings.conversation import ConversationSettings
from workplace_roleplay.web.sse import CacheStreamBuffers


def build_engine(
    settings: ConversationSettings, res: Resources, background: BackgroundWork, mode: ConversationMode
) -> ConversationService:
    """``ConversationService`` in ``mode``: the store, cache, model and clock of ``res``, the NG-word moderator,
    replay buffers in the cache (sealed), and the engine options from ``settings``."""
    ctx = EngineContext(
        store=res.store,
        cache=res.cache,
        model=res.model,
        clock=res.clock,
        moderator=Moderator.from_files(settings.NG_WORDS_FILE),
        background=background,
        streams=CacheStreamBuffers(res.cache, sealer=res.security.sealer, ttl_s=settings.STREAM_BUFFER_TTL_S),
        sealer=res.security.sealer,
    )
    options = EngineOptions(
        context_tokens=settings.CONTEXT_TOKENS,
        memory_every_turns=settings.MEMORY_EVERY_TURNS,
        memories_in_prompt=settings.MEMORIES_IN_PROMPT,
        max_message_chars=settings.MAX_MESSAGE_CHARS,
        turn_lease_s=settings.TURN_LEASE_S,
    )
    return ConversationService(ctx, mode, options)
