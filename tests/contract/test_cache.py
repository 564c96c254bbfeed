"""The ``Cache`` port contract, run against the in-process cache, a real Redis and a real Redis Cluster."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from tests.support.clock import ManualClock
from tests.support.redis_topologies import TOPOLOGIES, redis_target
from workplace_roleplay.adapters.memory_cache import MemoryCache
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.ports import Cache, SystemClock


@dataclass
class CacheCase:
    cache: Cache
    # Lets time pass: the memory cache's clock is moved, Redis really waits (its TTLs are server-side).
    wait: Callable[[float], Awaitable[None]]


@pytest.fixture(params=TOPOLOGIES)
async def case(request: pytest.FixtureRequest) -> AsyncIterator[CacheCase]:
    if request.param == "memory":
        clock = ManualClock()

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        memory = MemoryCache(clock)
        yield CacheCase(memory, advance)
        await memory.close()
        return
    for url, mode, namespace in redis_target(request):
        redis_cache = RedisCache.from_url(url, timeout_s=1.0, clock=SystemClock(), namespace=namespace, mode=mode)
        yield CacheCase(redis_cache, asyncio.sleep)
        await redis_cache.close()


@pytest.fixture
def key() -> str:
    return f"ai_cache:{uuid.uuid4().hex}"


async def test_missing_key_is_a_miss(case: CacheCase, key: str) -> None:
    assert await case.cache.get(key) is None


async def test_set_then_get_round_trips_bytes(case: CacheCase, key: str) -> None:
    value = "こんにちは".encode() + b"\x00\xff"
    await case.cache.set(key, value, ttl=60)
    assert await case.cache.get(key) == value
    await case.cache.set(key, b"second", ttl=60)
    assert await case.cache.get(key) == b"second"


async def test_keys_expire_after_their_ttl(case: CacheCase, key: str) -> None:
    await case.cache.set(key, b"v", ttl=1)
    assert await case.cache.get(key) == b"v"
    await case.wait(1.2)
    assert await case.cache.get(key) is None


@pytest.mark.parametrize("ttl", [0, -1])
async def test_every_key_needs_a_positive_ttl(case: CacheCase, key: str, ttl: int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await case.cache.set(key, b"v", ttl=ttl)
    with pytest.raises(ValueError, match="ttl"):
        await case.cache.append(key, b"v", ttl=ttl)
    with pytest.raises(ValueError, match="ttl"):
        await case.cache.touch(key, ttl=ttl)
    assert await case.cache.get(key) is None


async def test_delete_removes_values_and_lists(case: CacheCase, key: str) -> None:
    await case.cache.set(key + ":a", b"1", ttl=60)
    await case.cache.append(key + ":b", b"1", ttl=60)
    await case.cache.delete(key + ":a", key + ":b", key + ":never")
    await case.cache.delete()
    assert await case.cache.get(key + ":a") is None
    assert await case.cache.read_list(key + ":b") == []


async def test_touch_slides_the_expiry(case: CacheCase, key: str) -> None:
    await case.cache.set(key, b"session", ttl=1)
    await case.wait(0.6)
    await case.cache.touch(key, ttl=3)
    await case.wait(0.8)
    assert await case.cache.get(key) == b"session"


async def test_touch_does_not_create_a_key(case: CacheCase, key: str) -> None:
    await case.cache.touch(key, ttl=60)
    assert await case.cache.get(key) is None
    assert await case.cache.read_list(key) == []


async def test_append_returns_length_and_read_list_reads_from_an_index(case: CacheCase) -> None:
    key = f"stream:{uuid.uuid4().hex}"
    lengths = [await case.cache.append(key, f"e{i}".encode(), ttl=60) for i in range(4)]
    assert lengths == [1, 2, 3, 4]
    assert await case.cache.read_list(key) == [b"e0", b"e1", b"e2", b"e3"]
    assert await case.cache.read_list(key, 2) == [b"e2", b"e3"]
    assert await case.cache.read_list(key, 10) == []


async def test_append_keeps_only_the_newest_max_items(case: CacheCase) -> None:
    key = f"stream:{uuid.uuid4().hex}"
    for i in range(5):
        length = await case.cache.append(key, f"e{i}".encode(), ttl=60, max_items=3)
    assert length == 3
    assert await case.cache.read_list(key) == [b"e2", b"e3", b"e4"]


async def test_extend_appends_a_batch_in_order_in_one_call(case: CacheCase) -> None:
    key = f"stream:{uuid.uuid4().hex}"
    assert await case.cache.append(key, b"e0", ttl=60) == 1
    assert await case.cache.extend(key, [b"e1", b"e2", b"e3"], ttl=60) == 4
    assert await case.cache.read_list(key) == [b"e0", b"e1", b"e2", b"e3"]
    assert await case.cache.extend(key, [b"e4", b"e5"], ttl=60, max_items=3) == 3
    assert await case.cache.read_list(key) == [b"e3", b"e4", b"e5"]


async def test_extend_fresh_replaces_the_list_and_sets_its_ttl(case: CacheCase) -> None:
    key = f"stream:{uuid.uuid4().hex}"
    await case.cache.extend(key, [b"old1", b"old2"], ttl=60)
    assert await case.cache.extend(key, [b"header"], ttl=1, fresh=True) == 1
    assert await case.cache.read_list(key) == [b"header"]
    await case.wait(1.2)
    assert await case.cache.read_list(key) == []


async def test_extend_refuses_an_empty_batch_a_missing_ttl_or_max_items_below_one(case: CacheCase) -> None:
    key = f"stream:{uuid.uuid4().hex}"
    with pytest.raises(ValueError, match="item"):
        await case.cache.extend(key, [], ttl=60)
    with pytest.raises(ValueError, match="ttl"):
        await case.cache.extend(key, [b"a"], ttl=0)
    with pytest.raises(ValueError, match="max_items"):
        await case.cache.extend(key, [b"a"], ttl=60, max_items=0)
    assert await case.cache.read_list(key) == []


async def test_lists_expire_and_append_resets_their_ttl(case: CacheCase) -> None:
    key = f"stream:{uuid.uuid4().hex}"
    await case.cache.append(key, b"a", ttl=1)
    await case.wait(0.6)
    await case.cache.append(key, b"b", ttl=1)
    await case.wait(0.6)
    assert await case.cache.read_list(key) == [b"a", b"b"]
    await case.wait(0.6)
    assert await case.cache.read_list(key) == []


async def test_missing_list_reads_empty(case: CacheCase) -> None:
    assert await case.cache.read_list(f"stream:{uuid.uuid4().hex}") == []


async def test_a_value_and_a_list_do_not_mix(case: CacheCase, key: str) -> None:
    await case.cache.set(key + ":value", b"v", ttl=60)
    await case.cache.append(key + ":list", b"i", ttl=60)
    assert await case.cache.get(key + ":list") is None
    assert await case.cache.read_list(key + ":value") == []
    assert await case.cache.append(key + ":value", b"i", ttl=60) is None
    assert await case.cache.get(key + ":value") == b"v"


async def test_delete_prefix_deletes_only_matching_keys(case: CacheCase) -> None:
    base = f"scenario_cache:{uuid.uuid4().hex}"
    for name in ("a", "b", "c"):
        await case.cache.set(f"{base}:x:{name}", b"1", ttl=60)
    await case.cache.append(f"{base}:x:list", b"1", ttl=60)
    await case.cache.set(f"{base}:y:keep", b"1", ttl=60)
    assert await case.cache.delete_prefix(f"{base}:x:") == 4
    assert await case.cache.get(f"{base}:x:a") is None
    assert await case.cache.read_list(f"{base}:x:list") == []
    assert await case.cache.get(f"{base}:y:keep") == b"1"


async def test_delete_prefix_matches_glob_characters_literally(case: CacheCase) -> None:
    base = f"scenario_cache:{uuid.uuid4().hex}"
    await case.cache.set(f"{base}:a*[b]?:1", b"1", ttl=60)
    await case.cache.set(f"{base}:aXbY:1", b"1", ttl=60)
    assert await case.cache.delete_prefix(f"{base}:a*[b]?") == 1
    assert await case.cache.get(f"{base}:aXbY:1") == b"1"


async def test_delete_prefix_refuses_an_empty_prefix(case: CacheCase) -> None:
    with pytest.raises(ValueError, match="prefix"):
        await case.cache.delete_prefix("")


async def test_health_is_ok_and_names_the_backend(case: CacheCase) -> None:
    status = await case.cache.health()
    assert status.status == "ok"
    assert status.backend == case.cache.backend
    assert case.cache.backend in {"memory", "redis"}


async def test_incr_counts_from_one_and_keeps_the_first_ttl(case: CacheCase) -> None:
    key = f"ratelimit:{{user:{uuid.uuid4().hex}}}:budget20261203"
    assert [await case.cache.incr(key, ttl=1) for _ in range(3)] == [1, 2, 3]
    await case.wait(0.6)
    assert await case.cache.incr(key, ttl=1) == 4  # a later call does not extend the day's expiry
    await case.wait(0.6)
    assert await case.cache.incr(key, ttl=60) == 1  # expired with its first TTL: a new day starts at 1


async def test_incr_refuses_a_list_like_redis(case: CacheCase, key: str) -> None:
    await case.cache.append(key, b"i", ttl=60)
    assert await case.cache.incr(key, ttl=60) is None
    assert await case.cache.read_list(key) == [b"i"]
