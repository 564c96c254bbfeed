"""RedisCache details the port contract cannot see: server-side TTLs, long SCANs, key layout."""

from __future__ import annotations

import time

import pytest
import redis

from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.ports import SystemClock

pytestmark = pytest.mark.integration

# A 0.03 s socket timeout means a 0.06 s budget for an ordinary call; scanning this many keys takes longer.
TIMEOUT_S = 0.03
KEYS = 60_000


async def test_every_written_key_has_a_server_side_ttl(redis_url: str, redis_namespace: str) -> None:
    cache = RedisCache.from_url(redis_url, timeout_s=1.0, clock=SystemClock(), namespace=redis_namespace)
    try:
        await cache.set("ai_cache:h1", b"v", ttl=30)
        await cache.append("stream:t1", b"e", ttl=40)
        await cache.set("user_session:u1", b"s", ttl=10)
        await cache.touch("user_session:u1", ttl=50)
    finally:
        await cache.close()
    direct = redis.Redis.from_url(redis_url)
    try:
        ttls = {k: direct.ttl(redis_namespace + k) for k in ("ai_cache:h1", "stream:t1", "user_session:u1")}
        names = {n.decode() for n in direct.scan_iter(match=redis_namespace + "*")}
    finally:
        direct.close()
    assert 25 < ttls["ai_cache:h1"] <= 30
    assert 35 < ttls["stream:t1"] <= 40
    assert 45 < ttls["user_session:u1"] <= 50
    # The namespace is a plain prefix: the key names of docs/architecture.md (Data) are kept as they are under it.
    assert names == {redis_namespace + k for k in ttls}


async def test_delete_prefix_over_many_keys_is_not_cut_short_by_the_call_budget(
    redis_url: str, redis_namespace: str
) -> None:
    direct = redis.Redis.from_url(redis_url)
    try:
        with direct.pipeline(transaction=False) as pipe:
            for i in range(KEYS):
                pipe.set(f"{redis_namespace}scenario_cache:{i}", b"1", ex=120)
            pipe.execute()
    finally:
        direct.close()
    cache = RedisCache.from_url(redis_url, timeout_s=TIMEOUT_S, clock=SystemClock(), namespace=redis_namespace)
    try:
        started = time.perf_counter()
        deleted = await cache.delete_prefix("scenario_cache:")
        elapsed = time.perf_counter() - started
        health = await cache.health()
    finally:
        await cache.close()
    print(f"\ndelete_prefix: {deleted} keys in {elapsed:.2f}s")
    assert deleted == KEYS
    assert elapsed > 2 * TIMEOUT_S, "the scan was too quick to show anything; raise KEYS"
    assert health.status == "ok"
