"""GCRA rate limiting in process (embedded mode, and the fallback while Redis is down).

GCRA keeps one number per key, the theoretical arrival time (TAT): the moment the key would be
back to a full burst if nothing more came. A hit of ``cost`` moves it ``cost * period/limit`` later
and is allowed while that stays within ``period`` of now. The Redis adapter runs the same formula
in Lua; :func:`gcra` is the reference both are tested against.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Final

from workplace_roleplay.ports import Clock
from workplace_roleplay.ports.ratelimit import RateDecision, check_hit
from workplace_roleplay.telemetry import RATE_LIMIT_DECISIONS

BACKEND: Final = "memory"
DEFAULT_MAX_KEYS: Final = 100_000
# Slack for float rounding: ``limit`` hits of ``period/limit`` must add up to exactly one period.
EPSILON_S: Final = 1e-6


def remaining_after(reset_after_s: float, *, limit: int, period_s: float) -> int:
    """Unit-cost hits still allowed when the key is ``reset_after_s`` away from a full burst."""
    interval = period_s / limit
    return max(0, min(limit, math.floor((period_s - reset_after_s) / interval + EPSILON_S)))


def gcra(tat: float | None, now: float, *, limit: int, period_s: float, cost: int) -> tuple[RateDecision, float | None]:
    """Decide one hit; returns the decision and the new TAT to store (None: store nothing)."""
    interval = period_s / limit
    start = now if tat is None or tat < now else tat
    new_tat = start + interval * cost
    allow_at = new_tat - period_s
    if allow_at - now > EPSILON_S:
        reset = start - now
        decision = RateDecision(
            allowed=False,
            remaining=remaining_after(reset, limit=limit, period_s=period_s),
            retry_after_s=allow_at - now,
            reset_after_s=reset,
        )
        return decision, None
    reset = new_tat - now
    decision = RateDecision(
        allowed=True,
        remaining=remaining_after(reset, limit=limit, period_s=period_s),
        retry_after_s=0.0,
        reset_after_s=reset,
    )
    return decision, (new_tat if cost > 0 else None)


class MemoryRateLimiter:
    """Per-process ``RateLimiter``: exact within one instance, unaware of the others."""

    backend = BACKEND

    def __init__(self, clock: Clock, *, max_keys: int = DEFAULT_MAX_KEYS, label: str = BACKEND) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be >= 1")
        self._clock = clock
        self._max_keys = max_keys
        self._label = label
        self._tats: OrderedDict[str, float] = OrderedDict()  # key -> TAT on the monotonic clock

    def __len__(self) -> int:
        return len(self._tats)

    async def hit(self, key: str, *, limit: int, period_s: float, cost: int = 1) -> RateDecision:
        check_hit(limit, period_s, cost)
        now = self._clock.monotonic()
        tat = self._tats.get(key)
        if tat is not None and tat <= now:
            del self._tats[key]  # back to a full burst: the same as never seen
            tat = None
        decision, new_tat = gcra(tat, now, limit=limit, period_s=period_s, cost=cost)
        if new_tat is not None:
            self._tats[key] = new_tat
            self._tats.move_to_end(key)
            self._evict()
        RATE_LIMIT_DECISIONS.labels(self._label, "allowed" if decision.allowed else "denied").inc()
        return decision

    def _evict(self) -> None:
        # Least recently hit first: usually already expired; otherwise forgetting it lets that key
        # burst again, the price of bounded memory under a flood of distinct keys.
        while len(self._tats) > self._max_keys:
            self._tats.popitem(last=False)
