"""bootstrap picks the cache and rate limiter from settings; the Redis pair shares one connection."""

from __future__ import annotations

from redis.asyncio import Redis, RedisCluster

from tests.support.clock import ManualClock
from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.adapters.memory_cache import MemoryCache
from workplace_roleplay.adapters.memory_ratelimit import MemoryRateLimiter
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.bootstrap import Resources, build_cache, build_rate_limiter
from workplace_roleplay.settings import ChatSettings


async def test_without_redis_url_everything_is_in_process() -> None:
    settings = ChatSettings(REDIS_URL=None)
    clock = ManualClock()
    cache = build_cache(settings, clock)
    assert isinstance(cache, MemoryCache)
    assert isinstance(build_rate_limiter(settings, cache, clock), MemoryRateLimiter)


async def test_with_redis_url_the_limiter_rides_on_the_cache_connection() -> None:
    # Building does not connect (clients connect on first use), so no server is needed here.
    settings = ChatSettings(REDIS_URL="rediss://:pw@10.0.0.3:6378/0", REDIS_TIMEOUT_S=0.3)
    clock = ManualClock()
    cache = build_cache(settings, clock)
    assert isinstance(cache, RedisCache)
    limiter = build_rate_limiter(settings, cache, clock)
    assert isinstance(limiter, RedisRateLimiter)
    assert limiter.connection is cache.connection
    client = cache.connection.client
    assert isinstance(client, Redis)  # REDIS_MODE defaults to standalone
    pool_kwargs = client.connection_pool.connection_kwargs
    assert pool_kwargs["socket_timeout"] == 0.3
    assert pool_kwargs["socket_connect_timeout"] == 0.3
    assert pool_kwargs["password"] == "pw"
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
    await cache.close()


def test_resources_built_by_hand_get_an_in_process_limiter() -> None:
    resources = Resources(settings=ChatSettings(), store=FakeStore(), cache=FakeCache(), clock=ManualClock())
    assert isinstance(resources.rate_limiter, MemoryRateLimiter)


async def test_redis_mode_cluster_builds_a_cluster_client_from_one_node() -> None:
    # Building does not connect: the cluster client discovers the other shards on its first call.
    settings = ChatSettings(REDIS_URL="redis://10.0.0.3:6379/0", REDIS_MODE="cluster", REDIS_TIMEOUT_S=0.3)
    clock = ManualClock()
    cache = build_cache(settings, clock)
    assert isinstance(cache, RedisCache)
    assert cache.connection.mode == "cluster"
    assert isinstance(cache.connection.client, RedisCluster)
    limiter = build_rate_limiter(settings, cache, clock)
    assert isinstance(limiter, RedisRateLimiter)
    assert limiter.connection is cache.connection
    await cache.close()
