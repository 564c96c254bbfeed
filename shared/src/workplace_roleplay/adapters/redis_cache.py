"""The ``Cache`` port on Redis (Memorystore in the cloud, a local server in the stack).

Best effort by contract: Redis being down never fails a request. Reads miss, writes are dropped,
list reads are empty, and the shared :class:`RedisConnection` breaker skips Redis for a short
cool-down after a failure, then probes again so a restarted Redis is picked up without a restart.
Every key gets a TTL. Key names and their cluster hash tags are listed in docs/redis-keys.md
(``stream:{<turn_id>}``, ``user_session:{<user_id>}``, ...), optionally under a ``namespace`` (e.g.
one Memorystore shared by two environments, or a test run). On a cluster every command here touches
one slot: single-key commands, the one-key MULTI of ``append``; ``delete`` goes one UNLINK per slot
and ``delete_prefix`` scans every primary.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from workplace_roleplay.adapters.redis_connection import RedisClient, RedisConnection, RedisMode, Unavailable
from workplace_roleplay.adapters.redis_iam import IamTokenCredentials
from workplace_roleplay.adapters.redis_scan import SCAN_BATCH, delete_matching, unlink_keys
from workplace_roleplay.ports import Clock, HealthStatus
from workplace_roleplay.ports.cache import check_list_write, check_ttl
from workplace_roleplay.telemetry import CACHE_EVENTS

BACKEND: Final = "redis"
_GLOB_SPECIALS: Final = frozenset("\\*?[]")


def glob_escape(text: str) -> str:
    """Escape Redis glob specials so a prefix matches literally in SCAN MATCH."""
    return "".join("\\" + ch if ch in _GLOB_SPECIALS else ch for ch in text)


def _as_bytes(value: bytes | str) -> bytes:
    # The client is built without decode_responses, so Redis answers bytes; str only if a URL overrides it.
    return value if isinstance(value, bytes) else value.encode()


# INCR, and the TTL only when the counter is new (a daily counter keeps its midnight expiry).
INCR_LUA: Final = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisCache:
    """A ``Cache`` on Redis that degrades to misses and dropped writes while Redis is unreachable."""

    backend = BACKEND

    def __init__(self, connection: RedisConnection, *, namespace: str = "") -> None:
        if "{" in namespace or "}" in namespace:
            # The namespace comes first in every key: a brace in it would become every key's hash tag.
            raise ValueError("namespace must not contain '{' or '}' (it would be every key's cluster hash tag)")
        self.connection = connection
        self.namespace = namespace
        # One EVALSHA per counter step (cheaper on the client than a MULTI of INCR and EXPIRE).
        self._incr = connection.client.register_script(INCR_LUA)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout_s: float,
        clock: Clock,
        namespace: str = "",
        cooldown_s: float = 2.0,
        mode: RedisMode = "standalone",
        iam_auth: bool = False,
    ) -> RedisCache:
        """A cache on the Redis at ``url`` (see :meth:`RedisConnection.from_url` for TLS, AUTH, cluster)."""
        connection = RedisConnection.from_url(
            url,
            timeout_s=timeout_s,
            clock=clock,
            cooldown_s=cooldown_s,
            mode=mode,
            credential_provider=IamTokenCredentials() if iam_auth else None,
        )
        return cls(connection, namespace=namespace)

    def _key(self, key: str) -> str:
        return self.namespace + key

    async def get(self, key: str) -> bytes | None:
        async def run(r: RedisClient) -> bytes | None:
            value = await r.get(self._key(key))
            return _as_bytes(value) if value is not None else None

        result = await self.connection.call("get", run)
        if isinstance(result, Unavailable):
            return None
        CACHE_EVENTS.labels(BACKEND, "get", "miss" if result is None else "hit").inc()
        return result

    async def set(self, key: str, value: bytes, *, ttl: int) -> None:
        check_ttl(ttl)

        async def run(r: RedisClient) -> None:
            await r.set(self._key(key), value, ex=ttl)

        await self._write("set", run)

    async def delete(self, *keys: str) -> None:
        if not keys:
            return

        async def run(r: RedisClient) -> None:
            # Not atomic by contract: on a cluster, keys of different slots go in one UNLINK per slot.
            await unlink_keys(r, [self._key(k) for k in keys])

        await self._write("delete", run)

    async def touch(self, key: str, *, ttl: int) -> None:
        check_ttl(ttl)

        async def run(r: RedisClient) -> None:
            await r.expire(self._key(key), ttl)

        await self._write("touch", run)

    async def append(self, key: str, item: bytes, *, ttl: int, max_items: int = 1000) -> int | None:
        check_list_write(ttl, max_items)
        name = self._key(key)

        async def run(r: RedisClient) -> int:
            # One MULTI/EXEC: the list never exists without its TTL, and never grows past max_items.
            async with r.pipeline(transaction=True) as pipe:
                pipe.rpush(name, item)
                pipe.ltrim(name, -max_items, -1)
                pipe.expire(name, ttl)
                pushed, _, _ = await pipe.execute()
            return min(int(pushed), max_items)

        result = await self.connection.call("append", run)
        if isinstance(result, int):
            CACHE_EVENTS.labels(BACKEND, "append", "ok").inc()
            return result
        return None

    async def incr(self, key: str, *, ttl: int) -> int | None:
        check_ttl(ttl)
        name = self._key(key)

        async def run(r: RedisClient) -> int:
            return int(await self._incr(keys=[name], args=[ttl], client=r))

        result = await self.connection.call("incr", run)
        if isinstance(result, int):
            CACHE_EVENTS.labels(BACKEND, "incr", "ok").inc()
            return result
        return None

    async def extend(
        self, key: str, items: Sequence[bytes], *, ttl: int, max_items: int = 1000, fresh: bool = False
    ) -> int | None:
        check_list_write(ttl, max_items, items)
        name = self._key(key)
        batch = list(items)

        async def run(r: RedisClient) -> int:
            # One MULTI/EXEC for the whole batch (a replay buffer flushes several events at once).
            async with r.pipeline(transaction=True) as pipe:
                if fresh:
                    pipe.delete(name)
                pipe.rpush(name, *batch)
                pipe.ltrim(name, -max_items, -1)
                pipe.expire(name, ttl)
                replies = await pipe.execute()
            return min(int(replies[1 if fresh else 0]), max_items)

        result = await self.connection.call("append", run)
        if isinstance(result, int):
            CACHE_EVENTS.labels(BACKEND, "append", "ok").inc()
            return result
        return None

    async def read_list(self, key: str, start: int = 0) -> list[bytes]:
        if start < 0:
            raise ValueError("start must be >= 0")

        async def run(r: RedisClient) -> list[bytes]:
            return [_as_bytes(item) for item in await r.lrange(self._key(key), start, -1)]

        result = await self.connection.call("read_list", run)
        if isinstance(result, list):
            CACHE_EVENTS.labels(BACKEND, "read_list", "hit" if result else "miss").inc()
            return result
        return []

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("refusing to delete every key: the prefix must not be empty")
        counts = await self.delete_prefix_per_node(prefix)
        return sum(counts.values())

    async def delete_prefix_per_node(self, prefix: str) -> dict[str, int]:
        """:meth:`delete_prefix` on every primary (SCAN, never KEYS); how many keys each node held."""
        if not prefix:
            raise ValueError("refusing to delete every key: the prefix must not be empty")
        pattern = glob_escape(self._key(prefix)) + "*"

        async def run(r: RedisClient) -> dict[str, int]:
            return await delete_matching(r, pattern, batch=SCAN_BATCH)

        result = await self.connection.call("delete_prefix", run, bounded=False)
        if isinstance(result, dict):
            CACHE_EVENTS.labels(BACKEND, "delete_prefix", "ok").inc()
            return result
        return {}

    async def health(self) -> HealthStatus:
        return await self.connection.health()

    async def close(self) -> None:
        await self.connection.close()

    async def _write(self, op: str, run: Callable[[RedisClient], Awaitable[None]]) -> None:
        result = await self.connection.call(op, run)
        if not isinstance(result, Unavailable):
            CACHE_EVENTS.labels(BACKEND, op, "ok").inc()
