"""A running service on a Redis Cluster while one primary's process is killed: no request fails, the
replica takes over, /ready returns to ok and every shard is used again (hits on all keys)."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from tests.integration.test_cache_outage import _probe_router, resources_on_fake_store
from tests.support.redis_cluster import LocalCluster
from tests.support.redis_server import free_port
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.cache_keys import stream_key
from workplace_roleplay.settings import ChatSettings
from workplace_roleplay.web.app import create_app

pytestmark = pytest.mark.integration

KEYS = 30  # scenario_cache keys the probe route reads through: they land on every shard


async def _ready(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/v2/chat/ready")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def test_killing_one_primary_under_load_fails_no_request(private_redis_cluster: LocalCluster) -> None:
    cluster = private_redis_cluster
    prefix = uuid.uuid4().hex[:8]
    settings = ChatSettings(REDIS_URL=cluster.url, REDIS_MODE="cluster", REDIS_TIMEOUT_S=0.25, LOG_JSON=False)
    app = create_app(settings, service="chat", routers=[_probe_router(prefix)], resources=resources_on_fake_store)
    phase = "up"
    results: list[tuple[str, int, int, bool]] = []
    stop = asyncio.Event()

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def request_loop() -> None:
                i = 0
                while not stop.is_set():
                    n = i % KEYS
                    response = await client.get(f"/api/v2/chat/_probe/{n}")
                    hit = response.status_code == 200 and bool(response.json()["hit"])
                    results.append((phase, response.status_code, n, hit))
                    i += 1
                    await asyncio.sleep(0.003)

            loop = asyncio.create_task(request_loop())
            try:
                await asyncio.sleep(1.0)
                assert await _ready(client) == "ok"
                # A primary other than the node REDIS_URL names (that one is covered by the client's
                # startup-node fallback, not by failover).
                victim = next(n for n in cluster.primaries() if n is not cluster.nodes[0])
                victim.stop()
                phase = "failover"
                killed = time.perf_counter()
                await asyncio.to_thread(cluster.wait_healthy, 30.0)
                promoted_after = time.perf_counter() - killed
                phase = "after"
                deadline = time.perf_counter() + 15
                while await _ready(client) != "ok":
                    assert time.perf_counter() < deadline, "/ready did not return to ok after the failover"
                    await asyncio.sleep(0.1)
                while {n for p, _, n, hit in results if p == "after" and hit} != set(range(KEYS)):
                    assert time.perf_counter() < deadline, "not every shard was used again after the failover"
                    await asyncio.sleep(0.05)
            finally:
                stop.set()
                await loop

    by_phase = {p: [r for r in results if r[0] == p] for p in ("up", "failover", "after")}
    failed = [r for r in results if r[1] != 200]
    print(
        f"\ncluster failover: {len(results)} requests, {len(failed)} failed; up {len(by_phase['up'])}, "
        f"failover {len(by_phase['failover'])}, after {len(by_phase['after'])}; replica promoted "
        f"{promoted_after:.2f}s after the kill"
    )
    assert failed == []
    assert all(len(rows) >= 5 for rows in by_phase.values())
    assert victim not in cluster.primaries()
    assert len(cluster.primaries()) == 3  # the replica of the killed primary took over its slots


async def test_an_unreachable_cluster_degrades_every_call_fast() -> None:
    """REDIS_MODE=cluster with nothing answering: the cluster client cannot even learn the slots; no call raises."""
    cache = RedisCache.from_url(
        f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.25, clock=SystemClock(), mode="cluster"
    )
    limiter = RedisRateLimiter(cache.connection)
    started = time.perf_counter()
    try:
        assert await cache.get("ai_cache:x") is None
        await cache.set("ai_cache:x", b"v", ttl=60)
        assert await cache.append(stream_key("t1"), b"e", ttl=60) is None
        assert await cache.delete_prefix("scenario_cache:") == 0
        assert (await limiter.hit("user:u1:default", limit=5, period_s=60)).allowed  # local fallback limits
        health = await cache.health()
    finally:
        await cache.close()
    elapsed = time.perf_counter() - started
    assert health.status == "degraded"
    assert elapsed < 2.0, f"degraded calls took {elapsed:.2f}s"
