"""IAM auth (Memorystore): each new connection AUTHs with the current access token; a stale one is refreshed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.redis_server import RedisServer, require_redis_server
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.adapters.redis_connection import RedisConnection
from workplace_roleplay.adapters.redis_iam import IamTokenCredentials
from workplace_roleplay.ports import SystemClock

pytestmark = pytest.mark.integration

TOKEN = "ya29.test-access-token"


class FakeTokenSource:
    """Stands in for google-auth credentials: each refresh issues the next token for an hour."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = tokens
        self.token: str | None = None
        self.expiry: dt.datetime | None = None
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.token = self._tokens[min(self.refreshes, len(self._tokens) - 1)]
        self.refreshes += 1
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)


@pytest.fixture
def token_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server whose password is the access token (how Memorystore checks an IAM token)."""
    server = RedisServer(require_redis_server(), tmp_path, password=TOKEN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _cache(server: RedisServer, source: FakeTokenSource) -> RedisCache:
    url = f"redis://127.0.0.1:{server.port}/0"  # no password: the token is the credential
    provider = IamTokenCredentials(source=source, request=None)
    connection = RedisConnection.from_url(url, timeout_s=1.0, clock=SystemClock(), credential_provider=provider)
    return RedisCache(connection)


async def test_the_access_token_authenticates_and_is_fetched_once(token_redis: RedisServer) -> None:
    source = FakeTokenSource([TOKEN])
    cache = _cache(token_redis, source)
    try:
        await cache.set("ai_cache:iam", b"v", ttl=60)
        assert await cache.get("ai_cache:iam") == b"v"
        assert (await cache.health()).status == "ok"
    finally:
        await cache.close()
    assert source.refreshes == 1


async def test_an_expiring_token_is_refreshed_before_use(token_redis: RedisServer) -> None:
    source = FakeTokenSource(["ya29.old", TOKEN])
    source.refresh(None)
    source.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=1)  # inside the margin
    cache = _cache(token_redis, source)
    try:
        await cache.set("ai_cache:iam", b"v", ttl=60)
        assert await cache.get("ai_cache:iam") == b"v"
    finally:
        await cache.close()
    assert source.refreshes == 2


async def test_a_refused_token_degrades_instead_of_failing(token_redis: RedisServer) -> None:
    cache = _cache(token_redis, FakeTokenSource(["ya29.revoked"]))
    try:
        await cache.set("ai_cache:iam", b"v", ttl=60)  # dropped, no exception
        assert await cache.get("ai_cache:iam") is None
        assert (await cache.health()).status == "degraded"
    finally:
        await cache.close()
