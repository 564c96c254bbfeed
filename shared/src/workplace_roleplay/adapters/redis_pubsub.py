"""The ``PubSub`` port on Redis: PUBLISH/SUBSCRIBE on one server, sharded SPUBLISH/SSUBSCRIBE on a cluster.

Classic pub/sub on a cluster broadcasts every message over the bus to every node; sharded pub/sub
keeps a channel on the shard that owns its slot (Redis 7), so it scales with the shards. Channel
names carry their owner's hash tag (docs/redis-keys.md). Publishing goes through the shared
:class:`RedisConnection` (breaker, budget); a subscription holds its own connection and, while Redis
is unreachable, reports no message instead of raising, retrying the subscribe on the next read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, Final

from redis.asyncio import RedisCluster
from redis.asyncio.client import PubSub as RedisPubSubConnection
from redis.asyncio.cluster import ClusterPubSub

from workplace_roleplay.adapters.redis_connection import CALL_ERRORS, RedisClient, RedisConnection, Unavailable

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S: Final = 1.0


class RedisSubscription:
    """One channel's messages over a dedicated pub/sub connection (sharded on a cluster)."""

    def __init__(self, client: RedisClient, channel: str, namespace: str) -> None:
        self._client = client
        self._channel = namespace + channel
        self._pubsub: RedisPubSubConnection | ClusterPubSub | None = None

    @property
    def sharded(self) -> bool:
        return isinstance(self._client, RedisCluster)

    async def _ensure(self) -> RedisPubSubConnection | ClusterPubSub:
        if self._pubsub is None:
            if isinstance(self._client, RedisCluster):
                # The slot map must be known before the pubsub picks the channel's shard (no-op once loaded).
                await self._client.initialize()
            pubsub = self._client.pubsub()
            if isinstance(pubsub, ClusterPubSub):
                await pubsub.ssubscribe(self._channel)
                # Wait for the server's confirmation: until then a message published elsewhere is missed.
                confirmed = await pubsub.get_sharded_message(timeout=CONFIRM_TIMEOUT_S)
            else:
                await pubsub.subscribe(self._channel)
                confirmed = await pubsub.get_message(timeout=CONFIRM_TIMEOUT_S)
            if confirmed is None:
                log.info("redis subscribe not confirmed within %.1f s", CONFIRM_TIMEOUT_S)
            self._pubsub = pubsub
        return self._pubsub

    async def start(self) -> None:
        """Subscribe now, so messages published after this returns are received (quiet on outage)."""
        with suppress(*CALL_ERRORS):
            await self._ensure()

    async def next(self, timeout_s: float) -> bytes | None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                message = await self._read(left)
            except CALL_ERRORS as exc:
                log.info("redis subscription interrupted: %s", type(exc).__name__)
                await self.close()
                await asyncio.sleep(min(left, 0.2))
                continue
            if message is not None and message.get("type") in ("message", "smessage"):
                data = message["data"]
                return data if isinstance(data, bytes) else str(data).encode()
        return None

    async def _read(self, timeout_s: float) -> dict[str, Any] | None:
        pubsub = await self._ensure()
        if isinstance(pubsub, ClusterPubSub):
            return await pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=timeout_s)
        message: dict[str, Any] | None = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout_s)
        return message

    async def close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with suppress(*CALL_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped


class RedisPubSub:
    """``PubSub`` on the cache's Redis connection (same namespace, same breaker for publishing)."""

    def __init__(self, connection: RedisConnection, *, namespace: str = "") -> None:
        self.connection = connection
        self.namespace = namespace
        self.backend = "redis-cluster" if connection.mode == "cluster" else "redis"

    async def publish(self, channel: str, message: bytes) -> int | None:
        name = self.namespace + channel

        async def run(r: RedisClient) -> int:
            if isinstance(r, RedisCluster):
                return int(await r.spublish(name, message))
            return int(await r.publish(name, message))

        result = await self.connection.call("publish", run)
        return None if isinstance(result, Unavailable) else result

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[RedisSubscription]:
        subscription = RedisSubscription(self.connection.client, channel, self.namespace)
        await subscription.start()
        try:
            yield subscription
        finally:
            await subscription.close()
