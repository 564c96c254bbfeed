"""What of a conversation fits in the prompt: recent turns within a token budget, older ones summarised.

Token counts are estimated offline (no tokenizer call per turn): Gemini spends roughly one token per
Japanese character and one per four ASCII characters, so the estimate errs on the generous side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workplace_roleplay.domain.conversation.records import Message, MessageStatus


def estimate_tokens(text: str) -> int:
    """A conservative token estimate for mixed Japanese/ASCII text."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return (len(text) - ascii_chars) + (ascii_chars + 3) // 4 + 1


@dataclass(frozen=True, slots=True)
class Window:
    """The messages that go into the prompt verbatim and the ones left to the rolling summary."""

    recent: list[Message]
    older: list[Message]  # not in ``recent``: the rolling summary must cover them

    @property
    def overflow_through(self) -> float:
        """created_at of the newest message that did not fit (0 when everything fits)."""
        return self.older[-1].created_at if self.older else 0.0


def fit(messages: Sequence[Message], *, budget_tokens: int) -> Window:
    """Keep the newest usable messages whose estimated size fits ``budget_tokens``."""
    usable = [m for m in messages if m.status is not MessageStatus.FAILED and m.text]
    used = 0
    cut = len(usable)
    for index in range(len(usable) - 1, -1, -1):
        cost = estimate_tokens(usable[index].text)
        if used + cost > budget_tokens:
            break
        used += cost
        cut = index
    # A turn split in the middle reads oddly: start the window on a learner line when possible.
    while 0 < cut < len(usable) - 1 and usable[cut].role.value != "learner":
        cut += 1
    return Window(recent=list(usable[cut:]), older=list(usable[:cut]))


def needs_summary(window: Window, summary_through: float) -> bool:
    """True when messages fell out of the window that the stored summary does not cover yet."""
    return window.overflow_through > summary_through
