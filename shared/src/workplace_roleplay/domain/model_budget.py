"""The learner's daily model budget: model-calling requests (and watch lines) per Asia/Tokyo day.

One Redis round trip per spend: ``Cache.incr`` (one EVALSHA: INCR, and EXPIRE when the counter is new) on
``ratelimit:{user:<id>}:budget<yyyymmdd>``, whose reply is the count so far. The key shares its cluster slot with
the learner's rate-limit keys and expires just after the Tokyo midnight that resets it. While Redis is unreachable
the budget is not enforced (the rate limits still are, per instance), so an outage never blocks learners
(ADR 0034).
"""

from __future__ import annotations

import datetime as dt
import logging

from workplace_roleplay.errors import DailyBudgetExceeded
from workplace_roleplay.ports import Cache, Clock
from workplace_roleplay.ports.cache_keys import ratelimit_key

log = logging.getLogger(__name__)
JST = dt.timezone(dt.timedelta(hours=9), "JST")


class DailyModelBudget:
    """``spend(user_id)`` one unit of today's ``per_user`` budget, or raise ``DailyBudgetExceeded``."""

    def __init__(self, cache: Cache, clock: Clock, *, per_user: int) -> None:
        self.cache, self.clock, self.per_user = cache, clock, per_user

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), JST)

    def resets(self) -> tuple[dt.datetime, int]:
        """The next Tokyo midnight and the whole seconds until it (at least 1)."""
        now = self._now()
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), JST)
        return midnight, max(1, int((midnight - now).total_seconds()) + 1)

    def key(self, user_id: str) -> str:
        return ratelimit_key(f"user:{user_id}:budget{self._now():%Y%m%d}")

    async def spend(self, user_id: str) -> None:
        if self.per_user <= 0 or not user_id:
            return
        midnight, ttl = self.resets()
        count = await self.cache.incr(self.key(user_id), ttl=ttl)
        if count is None:
            log.warning("model budget not enforced: cache unavailable")
            return
        if count > self.per_user:
            raise DailyBudgetExceeded(
                ttl,
                resets_at=midnight.isoformat(),
                limit=self.per_user,
                detail=f"daily model budget of {self.per_user} used up",
            )
