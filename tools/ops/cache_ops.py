"""Runbook cache actions over the Cache port: clear model caches, drop hot session state.

Both are safe by design (docs/redis-keys.md): every Redis key is a cache over durable data, so
deleting it costs a recomputation or a reload from the store, never data. On a cluster both walk every
primary (SCAN per node) and report what each node held.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tools.ops.traffic import OpsError
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.bootstrap import build_cache
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.cache_keys import session_match_prefix
from workplace_roleplay.settings import ServiceSettings

# Key families (docs/redis-keys.md) that ops may clear; a prefix must start with one of them. Not
# ``ratelimit:``: it also holds the daily text-to-speech budget, the guard against a cost blow-up.
CACHE_FAMILIES = ("ai_cache:", "tts_cache:", "scenario_cache:", "stream:")


@dataclass(frozen=True)
class Cleared:
    """What a clear did: the backend, how many keys, and how many on each node (every primary of a cluster)."""

    backend: str
    count: int
    per_node: dict[str, int] = field(default_factory=dict)

    def describe_nodes(self) -> str:
        """`` (node a: 3, node b: 0)`` for a cluster; empty for one server."""
        if set(self.per_node) <= {"standalone"}:
            return ""
        return " (" + ", ".join(f"{node}: {n}" for node, n in sorted(self.per_node.items())) + ")"


def check_prefix(prefix: str, families: tuple[str, ...]) -> str:
    """Refuse an empty or foreign prefix (clearing everything would also drop rate limits and streams)."""
    if not prefix.startswith(families):
        raise OpsError(f"prefix {prefix!r} must start with one of: {', '.join(families)}")
    return prefix


async def delete_prefix(settings: ServiceSettings, prefix: str) -> Cleared:
    """Delete every key under ``prefix`` in the settings' cache, on every primary of a cluster."""
    if settings.cache_backend != "redis":
        # An in-process cache lives inside each service; another process cannot clear it.
        raise OpsError("REDIS_URL is not set: there is no shared cache to act on (restart the service instead)")
    cache = build_cache(settings, SystemClock())
    if not isinstance(cache, RedisCache):
        raise OpsError(f"cache backend {cache.backend} cannot be cleared from outside the service")
    try:
        health = await cache.health()
        if health.status != "ok":
            raise OpsError(f"cache {health.backend} is {health.status}: {health.detail or 'unreachable'}")
        # On a cluster health is ok only when every primary answered; a failing node during the walk
        # reads as an empty result, so a partial clear is reported as an error, never as success.
        per_node = await cache.delete_prefix_per_node(prefix)
        if cache.connection.breaker.is_open:
            raise OpsError(f"cache {cache.backend} failed during the clear: {cache.connection.breaker.last_error}")
    finally:
        await cache.close()
    return Cleared(
        cache.backend + ("-cluster" if cache.connection.mode == "cluster" else ""), sum(per_node.values()), per_node
    )


async def clear_cache(settings: ServiceSettings, prefix: str) -> Cleared:
    return await delete_prefix(settings, check_prefix(prefix, CACHE_FAMILIES))


async def cleanup_sessions(settings: ServiceSettings, user_prefix: str = "") -> Cleared:
    """Drop hot session state (``user_session:{<user_id>}``), all of it or the users whose id starts with
    ``user_prefix``. Without a prefix it also drops keys of the older untagged form ``user_session:<id>``."""
    return await delete_prefix(settings, session_match_prefix(user_prefix))
