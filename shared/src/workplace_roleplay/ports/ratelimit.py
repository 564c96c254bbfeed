"""The rate-limit port: "may this key spend ``cost`` of ``limit`` per ``period_s`` now?".

Limits are a smooth rate with a burst of ``limit`` (GCRA): after a full burst one more request is
allowed every ``period_s / limit`` seconds. Keys are what is limited (``user:{user_id}:chat``,
``ip:{addr}``); adapters store them as ``ratelimit:{key}`` (docs/architecture.md, Data) with a TTL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The answer to one ``hit``."""

    allowed: bool
    remaining: int  # further unit-cost hits allowed right now
    retry_after_s: float  # 0 when allowed; else seconds until this hit would be allowed
    reset_after_s: float  # seconds until the key is back to a full burst

    @property
    def retry_after_header(self) -> int:
        """``Retry-After`` value in whole seconds (at least 1)."""
        return max(1, math.ceil(self.retry_after_s))


def check_hit(limit: int, period_s: float, cost: int) -> None:
    """Refuse arguments no limiter can honour (programming errors, not user input)."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    if not period_s > 0:
        raise ValueError("period_s must be > 0")
    if cost < 0 or cost > limit:
        raise ValueError(f"cost must be between 0 and limit ({limit}), got {cost}")


class RateLimiter(Protocol):
    """Counts hits per key; never raises for a backend outage (adapters fall back, never allow all)."""

    backend: str

    async def hit(self, key: str, *, limit: int, period_s: float, cost: int = 1) -> RateDecision:
        """Spend ``cost`` (0 peeks) of ``limit`` per ``period_s`` on ``key`` if allowed; denied hits spend nothing."""
        ...
