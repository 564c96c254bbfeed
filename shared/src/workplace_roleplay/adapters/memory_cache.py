"""The ``Cache`` port in process (embedded mode and unit tests): TTLs by the clock, bounded size, LRU eviction.

Single event loop, no awaits inside an operation, so every operation is atomic without a lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from workplace_roleplay.ports import Clock, HealthStatus
from workplace_roleplay.ports.cache import check_list_write, check_ttl
from workplace_roleplay.telemetry import CACHE_EVENTS

BACKEND: Final = "memory"
DEFAULT_MAX_ENTRIES: Final = 10_000
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024


@dataclass(slots=True)
class _Entry:
    value: bytes | list[bytes]
    expires_at: float  # on the clock's monotonic scale
    size: int


def _size(key: str, value: bytes | list[bytes]) -> int:
    items = value if isinstance(value, list) else [value]
    return len(key) + sum(len(item) for item in items)


class MemoryCache:
    """A per-process ``Cache``: keys expire by ``clock.monotonic()``, least recently used go first when full."""

    backend = BACKEND

    def __init__(
        self,
        clock: Clock,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be >= 1")
        self._clock = clock
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Approximate bytes held (keys plus values)."""
        return self._bytes

    def _live(self, key: str) -> _Entry | None:
        """The entry if present and not expired (expired ones are dropped); marks it recently used."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def _store(self, key: str, value: bytes | list[bytes], ttl: int) -> None:
        self._drop(key)
        size = _size(key, value)
        if size > self._max_bytes:
            return  # would evict everything else and still not fit: a cache may decline
        self._entries[key] = _Entry(value, self._clock.monotonic() + ttl, size)
        self._bytes += size
        self._evict()

    def _evict(self) -> None:
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, entry = self._entries.popitem(last=False)
            self._bytes -= entry.size
            CACHE_EVENTS.labels(BACKEND, "evict", "ok").inc()

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        value = entry.value if entry is not None and isinstance(entry.value, bytes) else None
        CACHE_EVENTS.labels(BACKEND, "get", "miss" if value is None else "hit").inc()
        return value

    async def set(self, key: str, value: bytes, *, ttl: int) -> None:
        check_ttl(ttl)
        self._store(key, bytes(value), ttl)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._drop(key)

    async def touch(self, key: str, *, ttl: int) -> None:
        check_ttl(ttl)
        entry = self._live(key)
        if entry is not None:
            entry.expires_at = self._clock.monotonic() + ttl

    async def append(self, key: str, item: bytes, *, ttl: int, max_items: int = 1000) -> int | None:
        check_list_write(ttl, max_items)
        return self._extend(key, [bytes(item)], ttl=ttl, max_items=max_items)

    async def extend(
        self, key: str, items: Sequence[bytes], *, ttl: int, max_items: int = 1000, fresh: bool = False
    ) -> int | None:
        check_list_write(ttl, max_items, items)
        if fresh:
            self._drop(key)
        return self._extend(key, [bytes(item) for item in items], ttl=ttl, max_items=max_items)

    def _extend(self, key: str, new: list[bytes], *, ttl: int, max_items: int) -> int | None:
        entry = self._live(key)
        if entry is None:
            self._store(key, new[-max_items:], ttl)
            return len(new[-max_items:]) if key in self._entries else None
        items = entry.value
        if not isinstance(items, list):
            return None  # Redis refuses RPUSH on a string key (WRONGTYPE); behave the same
        # In place: a stream buffer appends a few events at a time, so no copy of the whole list per call.
        items.extend(new)
        delta = sum(len(item) for item in new)
        if len(items) > max_items:
            overflow = len(items) - max_items
            delta -= sum(len(old) for old in items[:overflow])
            del items[:overflow]
        entry.size += delta
        entry.expires_at = self._clock.monotonic() + ttl
        self._bytes += delta
        self._evict()
        return len(items) if key in self._entries else None

    async def incr(self, key: str, *, ttl: int) -> int | None:
        check_ttl(ttl)
        entry = self._live(key)
        if entry is None or not isinstance(entry.value, bytes) or not entry.value.isdigit():
            if entry is not None:
                return None  # Redis refuses INCR on a list or a non-number; behave the same
            self._store(key, b"1", ttl)
            return 1 if key in self._entries else None
        entry.value = str(int(entry.value) + 1).encode()
        return int(entry.value)

    async def read_list(self, key: str, start: int = 0) -> list[bytes]:
        if start < 0:
            raise ValueError("start must be >= 0")
        entry = self._live(key)
        if entry is None or not isinstance(entry.value, list):
            return []
        return list(entry.value[start:])

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("refusing to delete every key: the prefix must not be empty")
        now = self._clock.monotonic()
        doomed = [k for k in self._entries if k.startswith(prefix)]
        live = sum(1 for k in doomed if self._entries[k].expires_at > now)
        for key in doomed:
            self._drop(key)
        return live

    async def health(self) -> HealthStatus:
        return HealthStatus("ok", BACKEND)

    async def close(self) -> None:
        self._entries.clear()
        self._bytes = 0
