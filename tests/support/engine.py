"""The conversation engine over in-process fakes of our ports (unit tests)."""

from __future__ import annotations

from tests.support.fakes import FakeCache, FakeStore
from tests.support.ticking_clock import TickingClock
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.coaching.moderation import Moderator
from workplace_roleplay.domain.conversation.mode import ConversationMode
from workplace_roleplay.domain.conversation.service import ConversationService, EngineContext, EngineOptions
from workplace_roleplay.domain.modes.chat import ChatMode
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.ports import Clock
from workplace_roleplay.ports.model import LanguageModel
from workplace_roleplay.web.sse import CacheStreamBuffers


def engine(
    store: FakeStore,
    cache: FakeCache,
    model: LanguageModel,
    background: BackgroundWork | None = None,
    *,
    mode: ConversationMode | None = None,
    clock: Clock | None = None,
    sealer: TextSealer | None = None,
    options: EngineOptions | None = None,
) -> ConversationService:
    """A ``ConversationService`` (chat mode unless ``mode`` is given) over these fakes."""
    ale = sealer or PlainSealer()
    ctx = EngineContext(
        store=store,
        cache=cache,
        model=model,
        clock=clock or TickingClock(),
        moderator=Moderator.from_files(),
        background=background or BackgroundWork(),
        streams=CacheStreamBuffers(cache, sealer=ale, ttl_s=600),
        sealer=sealer,
    )
    return ConversationService(ctx, mode or ChatMode(), options)
