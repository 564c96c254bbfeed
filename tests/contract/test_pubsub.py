"""The ``PubSub`` port (watch mode's fan-out) in process, on a real Redis and sharded on a real Redis Cluster."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.support.redis_topologies import TOPOLOGIES, redis_target
from workplace_roleplay.adapters.memory_pubsub import MemoryPubSub
from workplace_roleplay.adapters.redis_connection import RedisConnection
from workplace_roleplay.adapters.redis_pubsub import RedisPubSub
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.cache_keys import watch_channel
from workplace_roleplay.ports.pubsub import PubSub


@pytest.fixture(params=TOPOLOGIES)
async def pubsub(request: pytest.FixtureRequest) -> AsyncIterator[PubSub]:
    if request.param == "memory":
        yield MemoryPubSub()
        return
    for url, mode, namespace in redis_target(request):
        connection = RedisConnection.from_url(url, timeout_s=1.0, clock=SystemClock(), mode=mode)
        yield RedisPubSub(connection, namespace=namespace)
        await connection.close()


def channel() -> str:
    return watch_channel(uuid.uuid4().hex)


async def test_a_subscriber_receives_messages_in_order(pubsub: PubSub) -> None:
    name = channel()
    async with pubsub.subscribe(name) as subscription:
        assert await pubsub.publish(name, "第一".encode()) == 1
        assert await pubsub.publish(name, b"second") == 1
        assert await subscription.next(2.0) == "第一".encode()
        assert await subscription.next(2.0) == b"second"
        assert await subscription.next(0.2) is None


async def test_channels_are_separate_and_unheard_messages_are_dropped(pubsub: PubSub) -> None:
    # Many channels hash to slots on every shard of the cluster; each listener hears only its own.
    names = [channel() for _ in range(6)]
    assert await pubsub.publish(names[0], b"nobody listens") == 0
    async with asyncio.timeout(20):
        for name in names:
            async with pubsub.subscribe(name) as subscription:
                assert await pubsub.publish(name, name.encode()) == 1
                assert await subscription.next(2.0) == name.encode()
                assert await subscription.next(0.05) is None
