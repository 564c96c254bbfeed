"""The Redis rate limiter across instances, its keys, and its outage policy (local limits, never none)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis

from tests.support.redis_server import RedisServer, free_port
from workplace_roleplay.adapters.redis_connection import RedisConnection
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.cache_keys import ratelimit_key

pytestmark = pytest.mark.integration


def _limiter(url: str, namespace: str = "") -> tuple[RedisConnection, RedisRateLimiter]:
    connection = RedisConnection.from_url(url, timeout_s=0.5, clock=SystemClock(), cooldown_s=0.5)
    return connection, RedisRateLimiter(connection, namespace=namespace)


async def test_two_instances_share_one_limit(redis_url: str, redis_namespace: str) -> None:
    conn_a, instance_a = _limiter(redis_url, redis_namespace)
    conn_b, instance_b = _limiter(redis_url, redis_namespace)
    key = f"ip:{uuid.uuid4().hex}"
    try:
        decisions = []
        for i in range(10):
            limiter = instance_a if i % 2 == 0 else instance_b
            decisions.append(await limiter.hit(key, limit=6, period_s=60))
        assert [d.allowed for d in decisions] == [True] * 6 + [False] * 4
        assert all(d.retry_after_s > 9 for d in decisions[6:])  # 60 s / 6 = one hit every 10 s
        concurrent = await asyncio.gather(
            *(lim.hit(f"{key}:burst", limit=20, period_s=60) for lim in [instance_a, instance_b] * 20)
        )
        assert sum(d.allowed for d in concurrent) == 20  # the script is atomic: no lost updates
    finally:
        await conn_a.close()
        await conn_b.close()


async def test_the_key_is_ratelimit_prefixed_and_expires(redis_url: str, redis_namespace: str) -> None:
    connection, limiter = _limiter(redis_url, redis_namespace)
    key = f"user:{uuid.uuid4().hex}"
    try:
        await limiter.hit(key, limit=10, period_s=30, cost=5)
    finally:
        await connection.close()
    direct = redis.Redis.from_url(redis_url)
    try:
        pttl = direct.pttl(redis_namespace + ratelimit_key(key))
    finally:
        direct.close()
    assert isinstance(pttl, int)
    assert 14_000 < pttl <= 15_000  # the key lives exactly until the key is back to a full burst


async def test_redis_down_falls_back_to_local_limits() -> None:
    connection, limiter = _limiter(f"redis://127.0.0.1:{free_port()}/0")
    key = f"user:{uuid.uuid4().hex}"
    try:
        decisions = [await limiter.hit(key, limit=3, period_s=60) for _ in range(5)]
    finally:
        await connection.close()
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert decisions[-1].retry_after_s > 19


async def test_limits_survive_a_redis_restart_and_the_script_is_reloaded(private_redis: RedisServer) -> None:
    connection, limiter = _limiter(private_redis.url)
    key = f"user:{uuid.uuid4().hex}"
    try:
        assert (await limiter.hit(key, limit=2, period_s=60)).allowed
        private_redis.kill()
        during = [await limiter.hit(key, limit=2, period_s=60) for _ in range(3)]
        assert [d.allowed for d in during] == [True, True, False]  # local limits while down
        private_redis.start()  # empty: the script cache and the counts are gone
        await asyncio.sleep(0.6)  # the breaker's cool-down
        after = [await limiter.hit(key, limit=2, period_s=60) for _ in range(3)]
    finally:
        await connection.close()
    assert [d.allowed for d in after] == [True, True, False]
    direct = private_redis.client()
    try:
        assert direct.exists(ratelimit_key(key)) == 1  # counted in Redis again, so shared again
    finally:
        direct.close()
