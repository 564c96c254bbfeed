"""Replay buffers of streamed turns, as the domain sees them: only dropping them with a conversation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class StreamBuffers(Protocol):
    """Per-turn replay buffers (``stream:{turn_id}``); the web layer writes and replays them."""

    async def drop(self, turn_ids: Sequence[str]) -> None:
        """Delete the buffers of these turns (their conversation was deleted)."""
        ...
