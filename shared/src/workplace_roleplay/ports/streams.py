"""Replay buffers of streamed turns, as the domain sees them: dropping them with a conversation, and
reading back what an abandoned turn had streamed (ADR 0010)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StreamedLine:
    """The character line a turn's buffer was streaming when it stopped."""

    index: int  # its place among the turn's character lines (0: the first to speak)
    text: str  # the tokens buffered for it
    ended: bool  # the buffer already holds a closing event (the turn ended, or was closed)


class StreamBuffers(Protocol):
    """Per-turn replay buffers (``stream:{turn_id}``); the web layer writes and replays them."""

    async def drop(self, turn_ids: Sequence[str]) -> None:
        """Delete the buffers of these turns (their conversation was deleted)."""
        ...

    async def streamed(self, turn_id: str, owner: str) -> StreamedLine | None:
        """What the turn's buffer holds of its last line; None when there is no buffer of ``owner``."""
        ...

    async def close(self, turn_id: str, owner: str, done: Mapping[str, Any]) -> None:
        """Append a closing ``done`` event (an abandoned turn, now settled) so followers stop waiting."""
        ...
