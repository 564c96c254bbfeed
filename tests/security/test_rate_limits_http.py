"""Rate limits over HTTP: 429 + Retry-After in Japanese, shared through Redis, held during an outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest

from tests.support.auth_app import auth_app, auth_settings, serving
from tests.support.fakes import FakeStore
from tests.support.redis_server import RedisServer
from workplace_roleplay.adapters.redis_connection import RedisConnection
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.ports import SystemClock

MODEL = "/api/v2/auth/probe/model"


@asynccontextmanager
async def instances(n: int, redis_url: str, namespace: str, **settings: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """``n`` app instances (own limiter connection each) sharing one Redis and one store."""
    store = FakeStore()
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(n):
            connection = RedisConnection.from_url(redis_url, timeout_s=0.25, clock=SystemClock(), cooldown_s=30)
            stack.push_async_callback(connection.close)
            limiter = RedisRateLimiter(connection, namespace=namespace)
            app = auth_app(auth_settings(**settings), store, limiter=limiter)
            clients.append(await stack.enter_async_context(serving(app)))
        yield clients


async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    body = (await client.post("/api/v2/auth/anonymous")).json()
    client.cookies.clear()
    return {"Authorization": f"Bearer {body['access_token']}"}


async def test_burst_over_the_limit_gets_429_with_retry_after_in_japanese() -> None:
    app = auth_app(auth_settings(RATE_LIMIT_MODEL_USER="3/60"), FakeStore())
    async with serving(app) as client:
        auth = await bearer(client)
        statuses = [(await client.get(MODEL, headers=auth)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        denied = await client.get(MODEL, headers=auth)
        assert denied.status_code == 429
        assert denied.headers["retry-after"] == "20"  # one request every 60/3 s
        error = denied.json()["error"]
        assert error["code"] == "rate_limited"
        assert error["message"] == "リクエストが多すぎます。少し時間をおいてからもう一度お試しください。"
        assert error["retry_after"] == 20
        # Another learner is not affected by this one's burst.
        assert (await client.get(MODEL, headers=await bearer(client))).status_code == 200


async def test_per_ip_limit_uses_the_load_balancer_entry_of_x_forwarded_for() -> None:
    # As in the cloud: any peer is the load balancer (ingress allows nothing else), position 2.
    app = auth_app(auth_settings(RATE_LIMIT_AUTH_IP="2/60", TRUSTED_PROXIES="*"), FakeStore())
    async with serving(app) as client:

        def sign_in(xff: str) -> httpx.Request:
            return client.build_request(
                "POST", "/api/v2/auth/anonymous", headers={"X-Forwarded-For": xff}, json={"new_identity": True}
            )

        # The client may prepend anything; the entry the load balancer added (second from the right) counts.
        codes = [(await client.send(sign_in(f"{i}.6.6.6, 203.0.113.7, 10.0.0.1"))).status_code for i in range(3)]
        assert codes == [201, 201, 429]
        assert (await client.send(sign_in("203.0.113.8, 10.0.0.1"))).status_code == 201


@pytest.mark.integration
async def test_the_limit_is_shared_by_two_instances_through_redis(redis_url: str, redis_namespace: str) -> None:
    async with instances(2, redis_url, redis_namespace, RATE_LIMIT_MODEL_USER="4/60") as (a, b):
        auth = await bearer(a)
        assert [(await a.get(MODEL, headers=auth)).status_code for _ in range(2)] == [200, 200]
        assert [(await b.get(MODEL, headers=auth)).status_code for _ in range(2)] == [200, 200]
        # Each instance alone has seen only 2 of 4; together they have spent the limit.
        assert (await a.get(MODEL, headers=auth)).status_code == 429
        assert (await b.get(MODEL, headers=auth)).status_code == 429


@pytest.mark.integration
async def test_redis_down_neither_fails_requests_nor_lifts_the_limit(
    private_redis: RedisServer, redis_namespace: str
) -> None:
    async with instances(2, private_redis.url, redis_namespace, RATE_LIMIT_MODEL_USER="3/60") as (a, b):
        auth = await bearer(a)
        assert (await a.get(MODEL, headers=auth)).status_code == 200
        private_redis.stop()
        # Each instance now decides locally: requests keep working, and the limit still bites per instance.
        assert [(await a.get(MODEL, headers=auth)).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert [(await b.get(MODEL, headers=auth)).status_code for _ in range(4)] == [200, 200, 200, 429]
        denied = await b.get(MODEL, headers=auth)
        assert denied.headers["retry-after"] == "20"
