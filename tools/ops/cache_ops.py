"""Runbook cache actions over the Cache port: clear model caches, drop hot session state.

Both are safe by design (docs/architecture.md, Data): every Redis key is a cache over durable data, so deleting it
costs a recomputation or a reload from the store, never data.
"""

from __future__ import annotations

from tools.ops.traffic import OpsError
from workplace_roleplay.bootstrap import build_cache
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.settings import ServiceSettings

# Key families (docs/architecture.md, Data) that ops may clear; a prefix must start with one of them. Not
# ``ratelimit:``: it also holds the daily text-to-speech budget, the guard against a cost blow-up.
CACHE_FAMILIES = ("ai_cache:", "tts_cache:", "scenario_cache:", "stream:")
SESSION_PREFIX = "user_session:"


def check_prefix(prefix: str, families: tuple[str, ...]) -> str:
    """Refuse an empty or foreign prefix (clearing everything would also drop rate limits and streams)."""
    if not prefix.startswith(families):
        raise OpsError(f"prefix {prefix!r} must start with one of: {', '.join(families)}")
    return prefix


async def delete_prefix(settings: ServiceSettings, prefix: str) -> tuple[str, int]:
    """Delete every key under ``prefix`` in the settings' cache; returns (backend, count)."""
    if settings.cache_backend != "redis":
        # An in-process cache lives inside each service; another process cannot clear it.
        raise OpsError("REDIS_URL is not set: there is no shared cache to act on (restart the service instead)")
    cache = build_cache(settings, SystemClock())
    try:
        health = await cache.health()
        if health.status != "ok":
            raise OpsError(f"cache {health.backend} is {health.status}: {health.detail or 'unreachable'}")
        count = await cache.delete_prefix(prefix)
    finally:
        await cache.close()
    return cache.backend, count


async def clear_cache(settings: ServiceSettings, prefix: str) -> tuple[str, int]:
    return await delete_prefix(settings, check_prefix(prefix, CACHE_FAMILIES))


async def cleanup_sessions(settings: ServiceSettings, user_prefix: str = "") -> tuple[str, int]:
    """Drop hot session state (``user_session:*``), all of it or the users whose id starts with ``user_prefix``."""
    return await delete_prefix(settings, SESSION_PREFIX + user_prefix)
