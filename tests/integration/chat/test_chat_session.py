"""The hot session (``user_session:{user_id}``) is read: ``GET /api/v2/chat/session`` resumes from it."""

from __future__ import annotations

import httpx
import pytest
import redis

from tests.support.chat_server import ChatServer
from workplace_roleplay.ports.cache_keys import session_key

pytestmark = pytest.mark.integration


async def test_the_session_route_resumes_from_redis_and_falls_back_to_the_store(
    server: ChatServer, client: httpx.AsyncClient, redis_url: str, redis_namespace: str
) -> None:
    user, headers = await server.sign_in()
    json_headers = {**headers, "Accept": "application/json"}
    assert (await client.get("/api/v2/chat/session", headers=headers)).json() == {
        "conversation": None,
        "source": "store",
    }
    first = (await client.post("/api/v2/chat", json={"topic": "food"}, headers=json_headers)).json()
    second = (await client.post("/api/v2/chat", json={"topic": "hobby"}, headers=json_headers)).json()
    raw_redis = redis.Redis.from_url(redis_url)
    key = redis_namespace + session_key(user)
    assert raw_redis.ttl(key) > 0
    raw_redis.expire(key, 5)  # nearly expired: reading it slides the TTL back up
    hit = (await client.get("/api/v2/chat/session", headers=headers)).json()
    assert hit["source"] == "cache"
    assert hit["conversation"]["id"] == second["conversation_id"] != first["conversation_id"]
    assert hit["conversation"]["settings"]["topic"] == "hobby"
    assert raw_redis.ttl(key) > 60

    raw_redis.delete(key)  # expired (or Redis lost it): the store answers and the pointer is re-warmed
    fallback = (await client.get("/api/v2/chat/session", headers=headers)).json()
    assert fallback["source"] == "store"
    assert fallback["conversation"]["id"] == second["conversation_id"]
    assert raw_redis.exists(key)
    assert (await client.get("/api/v2/chat/session", headers=headers)).json()["source"] == "cache"
