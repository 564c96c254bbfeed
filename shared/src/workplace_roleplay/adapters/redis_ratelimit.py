"""GCRA rate limiting shared by every instance through Redis: one Lua script, atomic, Redis's clock.

Outage policy: while Redis is unreachable (the shared breaker is open, or a call fails) hits are
decided by an in-process :class:`MemoryRateLimiter` instead. Limits then hold per instance (with N
instances a key may get up to N times its limit), but a Redis outage never lifts the limits and never
fails a request. When Redis answers again the shared counts take over; what was spent locally during
the outage is not carried over.
"""

from __future__ import annotations

from typing import Final

from workplace_roleplay.adapters.memory_ratelimit import MemoryRateLimiter, remaining_after
from workplace_roleplay.adapters.redis_connection import RedisClient, RedisConnection, Unavailable
from workplace_roleplay.ports.cache_keys import ratelimit_key
from workplace_roleplay.ports.ratelimit import RateDecision, check_hit
from workplace_roleplay.telemetry import RATE_LIMIT_DECISIONS

BACKEND: Final = "redis"

# Times in microseconds from Redis TIME, so every instance shares one clock (no skew between them).
# The TAT is stored as an integer string ("%.0f"): Lua's tostring would print 1.7e+15 and lose digits.
# Returns {allowed (0/1), reset_after_us, retry_after_us}. The 1 µs slack mirrors EPSILON_S.
GCRA_LUA: Final = """
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local interval = period / limit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0) or 0
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - period
if allow_at - now > 1 then
  return {0, math.floor(tat - now), math.ceil(allow_at - now)}
end
if cost > 0 then
  local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
end
return {1, math.floor(new_tat - now), 0}
"""


class RedisRateLimiter:
    """A ``RateLimiter`` whose counts every instance shares; falls back to local limits when Redis is down."""

    backend = BACKEND

    def __init__(
        self, connection: RedisConnection, *, fallback: MemoryRateLimiter | None = None, namespace: str = ""
    ) -> None:
        self.connection = connection
        self._fallback = fallback or MemoryRateLimiter(connection.clock, label="memory-fallback")
        self._namespace = namespace
        # register_script runs EVALSHA and loads the script once if the server does not know it yet
        # (first call, or after a Redis restart).
        self._script = connection.client.register_script(GCRA_LUA)

    async def hit(self, key: str, *, limit: int, period_s: float, cost: int = 1) -> RateDecision:
        check_hit(limit, period_s, cost)
        # ratelimit:{<subject>}:<rest>: one subject's limits share a cluster slot (docs/redis-keys.md).
        name = self._namespace + ratelimit_key(key)
        period_us = max(1, round(period_s * 1_000_000))

        async def run(r: RedisClient) -> list[int]:
            reply = await self._script(keys=[name], args=[period_us, limit, cost], client=r)
            return [int(x) for x in reply]

        reply = await self.connection.call("ratelimit", run)
        if isinstance(reply, Unavailable):
            return await self._fallback.hit(key, limit=limit, period_s=period_s, cost=cost)
        allowed, reset_us, retry_us = reply
        reset = reset_us / 1_000_000
        decision = RateDecision(
            allowed=bool(allowed),
            remaining=remaining_after(reset, limit=limit, period_s=period_s),
            retry_after_s=retry_us / 1_000_000,
            reset_after_s=reset,
        )
        RATE_LIMIT_DECISIONS.labels(BACKEND, "allowed" if decision.allowed else "denied").inc()
        return decision
