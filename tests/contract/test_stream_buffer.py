"""The SSE replay buffer (``stream:{<turn_id>}``) on the in-process cache, a real Redis and a real Redis Cluster."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.support.redis_topologies import TOPOLOGIES, redis_target
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.adapters.memory_cache import MemoryCache
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer
from workplace_roleplay.errors import NotFound
from workplace_roleplay.ports import Cache, SystemClock
from workplace_roleplay.web.sse import StreamBuffer, drop_stream_buffers

SEALER = CipherSealer(AesGcmFieldCipher(primary_kid="k1", keys={"k1": b"7" * 32}))
REPLY = "ご指摘ありがとうございます。資料を修正して再送いたします。"


@pytest.fixture(params=TOPOLOGIES)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        memory = MemoryCache(SystemClock())
        yield memory
        await memory.close()
        return
    for url, mode, namespace in redis_target(request):
        redis_cache = RedisCache.from_url(url, timeout_s=1.0, clock=SystemClock(), namespace=namespace, mode=mode)
        yield redis_cache
        await redis_cache.close()


async def _turn(cache: Cache, owner: str = "alice") -> StreamBuffer:
    buffer = StreamBuffer(cache, uuid.uuid4().hex, ttl_s=60, sealer=SEALER)
    await buffer.open(owner)
    await buffer.record("start", {"turn_id": buffer.turn_id})
    await buffer.record("token", {"text": REPLY[:10]})
    await buffer.record("token", {"text": REPLY[10:]})
    await buffer.record("done", {"text": REPLY})
    return buffer


async def test_replay_returns_the_events_after_the_last_seen_id(cache: Cache) -> None:
    buffer = await _turn(cache)
    everything = await buffer.replay("alice", 0)
    assert [e.event for e in everything] == ["start", "token", "token", "done"]
    assert [e.id for e in everything] == [f"{buffer.turn_id}.{n}" for n in range(1, 5)]
    resumed = await StreamBuffer(cache, buffer.turn_id, ttl_s=60, sealer=SEALER).replay("alice", 2)
    assert [(e.event, e.data.get("text")) for e in resumed] == [("token", REPLY[10:]), ("done", REPLY)]


async def test_another_learner_or_an_unknown_turn_is_not_found(cache: Cache) -> None:
    buffer = await _turn(cache)
    with pytest.raises(NotFound):
        await buffer.replay("mallory", 0)
    with pytest.raises(NotFound):
        await StreamBuffer(cache, uuid.uuid4().hex, ttl_s=60, sealer=SEALER).replay("alice", 0)


async def test_reopening_a_turn_starts_an_empty_buffer(cache: Cache) -> None:
    buffer = await _turn(cache)
    again = StreamBuffer(cache, buffer.turn_id, ttl_s=60, sealer=SEALER)
    await again.open("alice")
    assert await again.replay("alice", 0) == []


async def test_dropping_many_turns_deletes_every_buffer(cache: Cache) -> None:
    # Twenty turns hash to many slots (and, on the cluster, to every shard): one call drops them all.
    buffers = [await _turn(cache) for _ in range(20)]
    keep = await _turn(cache)
    await drop_stream_buffers(cache, [b.turn_id for b in buffers])
    for buffer in buffers:
        with pytest.raises(NotFound):
            await buffer.replay("alice", 0)
    assert len(await keep.replay("alice", 0)) == 4
