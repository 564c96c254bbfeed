"""Redis outages: calls degrade fast, the breaker saves the timeout, a running app survives a Redis kill."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import APIRouter, Request
from prometheus_client import REGISTRY

from tests.support.fakes import FakeStore
from tests.support.redis_server import RedisServer, free_port
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.bootstrap import Resources, build_cache, build_rate_limiter
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.cache_keys import ratelimit_key
from workplace_roleplay.settings import ChatSettings, ServiceSettings
from workplace_roleplay.web.app import create_app

pytestmark = pytest.mark.integration


@asynccontextmanager
async def blackhole() -> AsyncIterator[int]:
    """A listener that accepts connections and never answers (a firewalled or hung Redis)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()


def _skipped(op: str) -> float:
    labels = {"backend": "redis", "op": op, "outcome": "skipped"}
    return REGISTRY.get_sample_value("cache_operations_total", labels) or 0


async def test_closed_port_degrades_every_call_fast() -> None:
    cache = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.25, clock=SystemClock())
    started = time.perf_counter()
    assert await cache.get("ai_cache:x") is None
    await cache.set("ai_cache:x", b"v", ttl=60)
    await cache.touch("user_session:u", ttl=60)
    await cache.delete("ai_cache:x")
    assert await cache.append("stream:t", b"e", ttl=60) is None
    assert await cache.read_list("stream:t") == []
    assert await cache.delete_prefix("scenario_cache:") == 0
    health = await cache.health()
    elapsed = time.perf_counter() - started
    assert health.status == "degraded"
    assert health.backend == "redis"
    assert "ConnectionError" in health.detail
    assert elapsed < 0.5, f"degraded calls took {elapsed:.3f}s"
    with pytest.raises(ValueError, match="ttl"):
        await cache.set("ai_cache:x", b"v", ttl=0)  # a bug is still a bug while Redis is down
    await cache.close()


async def test_breaker_skips_a_hung_redis_instead_of_paying_the_timeout_per_call() -> None:
    timeout_s = 0.25
    async with blackhole() as port:
        cache = RedisCache.from_url(
            f"redis://127.0.0.1:{port}/0", timeout_s=timeout_s, clock=SystemClock(), cooldown_s=30
        )
        started = time.perf_counter()
        assert await cache.get("ai_cache:first") is None
        first = time.perf_counter() - started
        skipped_before = _skipped("get")
        started = time.perf_counter()
        for i in range(200):
            assert await cache.get(f"ai_cache:{i}") is None
        rest = time.perf_counter() - started
        health = await cache.health()
        await cache.close()
    print(f"\nhung Redis: first call {first:.3f}s, next 200 calls {rest * 1000:.2f} ms in total")
    # The first call pays its budget (two socket timeouts: room for the one retry); then the breaker is open.
    assert timeout_s <= first < 2 * timeout_s + 0.1
    assert _skipped("get") - skipped_before == 200
    assert rest < 0.2, f"200 calls with an open breaker took {rest:.3f}s (no breaker: ~{200 * first:.0f}s)"
    assert health.status == "degraded"
    assert "bypassed" in health.detail


async def test_after_the_cooldown_only_one_call_probes() -> None:
    async with blackhole() as port:
        cache = RedisCache.from_url(f"redis://127.0.0.1:{port}/0", timeout_s=0.2, clock=SystemClock(), cooldown_s=0.3)
        await cache.get("ai_cache:open-the-breaker")
        await asyncio.sleep(0.35)
        skipped_before = _skipped("get")
        started = time.perf_counter()
        results = await asyncio.gather(*(cache.get(f"ai_cache:{i}") for i in range(20)))
        elapsed = time.perf_counter() - started
        await cache.close()
    assert results == [None] * 20
    assert _skipped("get") - skipped_before == 19
    assert elapsed < 1.5


# --- a running service while its Redis is killed and restarted ---------------------------------


def _probe_router(prefix: str) -> APIRouter:
    """A test-only route that uses the cache (read-through) and the rate limiter, like real routes will."""
    router = APIRouter(prefix="/api/v2/chat")

    @router.get("/_probe/{n}")
    async def probe(n: int, request: Request) -> dict[str, bool]:
        resources: Resources = request.app.state.resources
        decision = await resources.rate_limiter.hit(f"{prefix}:probe", limit=1000, period_s=60)
        key = f"scenario_cache:{prefix}:{n}"
        hit = await resources.cache.get(key) is not None
        if not hit:
            await resources.cache.set(key, b"parsed", ttl=300)
        return {"hit": hit, "limited": not decision.allowed}

    return router


@asynccontextmanager
async def resources_on_fake_store(settings: ServiceSettings) -> AsyncIterator[Resources]:
    """The production cache and rate-limiter builders; a fake store, as the store is not under test."""
    clock = SystemClock()
    cache = build_cache(settings, clock)
    try:
        yield Resources(
            settings=settings,
            store=FakeStore(),
            cache=cache,
            clock=clock,
            rate_limiter=build_rate_limiter(settings, cache, clock),
        )
    finally:
        await cache.close()


async def _ready(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/api/v2/chat/ready")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_killing_redis_under_load_fails_no_request_and_restart_recovers(private_redis: RedisServer) -> None:
    prefix = uuid.uuid4().hex[:8]
    settings = ChatSettings(REDIS_URL=private_redis.url, REDIS_TIMEOUT_S=0.25, LOG_JSON=False)
    app = create_app(settings, service="chat", routers=[_probe_router(prefix)], resources=resources_on_fake_store)
    phase = "up"
    results: list[tuple[str, int, float, bool]] = []
    stop = asyncio.Event()

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def request_loop() -> None:
                i = 0
                while not stop.is_set():
                    started = time.perf_counter()
                    response = await client.get(f"/api/v2/chat/_probe/{i % 5}")
                    elapsed = time.perf_counter() - started
                    hit = response.status_code == 200 and bool(response.json()["hit"])
                    results.append((phase, response.status_code, elapsed, hit))
                    i += 1
                    await asyncio.sleep(0.005)

            loop = asyncio.create_task(request_loop())
            try:
                await asyncio.sleep(0.5)
                assert (await _ready(client))["status"] == "ok"

                private_redis.kill()
                phase = "down"
                await asyncio.sleep(1.0)
                down = await _ready(client)
                assert down["status"] == "degraded"
                assert down["checks"]["cache"]["status"] == "degraded"  # type: ignore[index]

                private_redis.start()  # same port, empty (no persistence)
                phase = "back"
                restarted = time.perf_counter()
                deadline = restarted + 10
                while (await _ready(client))["status"] != "ok":
                    assert time.perf_counter() < deadline, "/ready did not return to ok after Redis restarted"
                    await asyncio.sleep(0.1)
                recovered_after = time.perf_counter() - restarted
                while not any(p == "back" and hit for p, _, _, hit in results):
                    assert time.perf_counter() < deadline, "the cache was not used again after Redis restarted"
                    await asyncio.sleep(0.05)
            finally:
                stop.set()
                await loop

    by_phase = {p: [r for r in results if r[0] == p] for p in ("up", "down", "back")}
    failed = [r for r in results if r[1] != 200]
    down_latencies = sorted(r[2] for r in by_phase["down"])
    print(
        f"\nrequests: {len(results)} total, {len(failed)} failed; "
        f"up {len(by_phase['up'])}, down {len(by_phase['down'])}, back {len(by_phase['back'])}; "
        f"while down p50 {down_latencies[len(down_latencies) // 2] * 1000:.1f} ms, "
        f"max {down_latencies[-1] * 1000:.1f} ms; /ready ok {recovered_after:.2f}s after restart"
    )
    assert failed == []
    assert all(len(rows) >= 5 for rows in by_phase.values())
    assert any(hit for _, _, _, hit in by_phase["up"]), "the cache was never hit before the outage"
    assert not any(hit for _, _, _, hit in by_phase["down"][5:]), "hits while Redis was dead"
    assert down_latencies[-1] < 1.0
    # What the app cached after the restart is really in Redis, with a TTL.
    direct = private_redis.client()
    try:
        assert direct.get(f"scenario_cache:{prefix}:0") == b"parsed"
        ttl = direct.ttl(f"scenario_cache:{prefix}:0")
        assert isinstance(ttl, int)
        assert 0 < ttl <= 300
        assert direct.exists(ratelimit_key(f"{prefix}:probe")) == 1
    finally:
        direct.close()
