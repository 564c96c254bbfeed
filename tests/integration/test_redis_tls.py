"""rediss:// with AUTH (Memorystore with in-transit encryption): the cache and limiter work, bad auth degrades."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer, require_redis_server
from tests.support.tls import make_tls_files
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.ports import SystemClock

pytestmark = pytest.mark.integration

PASSWORD = "s3cr3t/with:odd@chars"


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(require_redis_server(), tmp_path, password=PASSWORD, tls=make_tls_files(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_cache_and_limiter_over_tls_with_auth(tls_redis: RedisServer) -> None:
    assert tls_redis.url.startswith("rediss://")
    cache = RedisCache.from_url(tls_redis.url, timeout_s=1.0, clock=SystemClock())
    try:
        assert (await cache.health()).status == "ok"
        await cache.set("ai_cache:tls", b"encrypted in transit", ttl=60)
        assert await cache.get("ai_cache:tls") == b"encrypted in transit"
        limiter = RedisRateLimiter(cache.connection)
        assert (await limiter.hit("user:tls", limit=1, period_s=60)).allowed
        assert not (await limiter.hit("user:tls", limit=1, period_s=60)).allowed
    finally:
        await cache.close()


async def test_wrong_password_degrades_without_leaking_it(tls_redis: RedisServer) -> None:
    url = tls_redis.url.replace("s3cr3t", "wrong")
    cache = RedisCache.from_url(url, timeout_s=1.0, clock=SystemClock())
    try:
        await cache.set("ai_cache:tls", b"v", ttl=60)
        assert await cache.get("ai_cache:tls") is None
        health = await cache.health()
    finally:
        await cache.close()
    assert health.status == "degraded"
    assert "wrong" not in health.detail
    assert PASSWORD not in health.detail


async def test_plain_tcp_to_a_tls_port_degrades(tls_redis: RedisServer) -> None:
    url = tls_redis.url.replace("rediss://", "redis://").split("?")[0]
    cache = RedisCache.from_url(url, timeout_s=0.3, clock=SystemClock())
    try:
        assert await cache.get("ai_cache:x") is None
        assert (await cache.health()).status == "degraded"
    finally:
        await cache.close()
