"""MemoryCache beyond the port contract: its size bounds and LRU eviction."""

from __future__ import annotations

from tests.support.clock import ManualClock
from workplace_roleplay.adapters.memory_cache import MemoryCache


async def test_least_recently_used_key_is_evicted_first() -> None:
    cache = MemoryCache(ManualClock(), max_entries=3)
    for name in ("a", "b", "c"):
        await cache.set(name, name.encode(), ttl=60)
    assert await cache.get("a") == b"a"  # "a" is now the most recently used
    await cache.set("d", b"d", ttl=60)
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(k) for k in ("a", "c", "d")] == [b"a", b"c", b"d"]


async def test_byte_bound_evicts_until_the_new_value_fits() -> None:
    cache = MemoryCache(ManualClock(), max_bytes=100)
    await cache.set("k1", b"x" * 40, ttl=60)
    await cache.set("k2", b"x" * 40, ttl=60)
    await cache.set("k3", b"x" * 40, ttl=60)
    assert cache.size_bytes <= 100
    assert await cache.get("k1") is None
    assert await cache.get("k3") == b"x" * 40


async def test_a_value_larger_than_the_whole_cache_is_declined() -> None:
    cache = MemoryCache(ManualClock(), max_bytes=50)
    await cache.set("small", b"s", ttl=60)
    await cache.set("huge", b"x" * 100, ttl=60)
    assert await cache.get("huge") is None
    assert await cache.get("small") == b"s"


async def test_byte_accounting_follows_appends_trims_and_deletes() -> None:
    cache = MemoryCache(ManualClock())
    for _ in range(5):
        await cache.append("stream:t", b"12345", ttl=60, max_items=2)
    assert cache.size_bytes == len("stream:t") + 10
    await cache.set("k", b"abc", ttl=60)
    await cache.delete("stream:t")
    assert cache.size_bytes == 1 + 3
    await cache.delete_prefix("k")
    assert cache.size_bytes == 0


async def test_expired_keys_are_not_counted_by_delete_prefix() -> None:
    clock = ManualClock()
    cache = MemoryCache(clock)
    await cache.set("p:old", b"1", ttl=1)
    await cache.set("p:new", b"1", ttl=10)
    clock.advance(2)
    assert await cache.delete_prefix("p:") == 1
    assert len(cache) == 0
