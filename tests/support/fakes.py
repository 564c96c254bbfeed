"""Small in-process fakes of our own ports, for unit tests of the web layer and the domain.

``FakeStore`` lives in ``fake_store.py`` (it keeps the document-store contract; tests/contract runs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from tests.support.fake_store import FakeStore
from workplace_roleplay.ports import HealthStatus

T = TypeVar("T")


class FakeCache:
    """A dict cache without expiry; ``down`` makes it report degraded like an unreachable Redis."""

    backend = "fake"

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.lists: dict[str, list[bytes]] = {}
        self.down = False

    async def get(self, key: str) -> bytes | None:
        return None if self.down else self.data.get(key)

    async def set(self, key: str, value: bytes, *, ttl: int) -> None:
        if not self.down:
            self.data[key] = value

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self.data.pop(key, None)
            self.lists.pop(key, None)

    async def touch(self, key: str, *, ttl: int) -> None:
        return None

    async def append(self, key: str, item: bytes, *, ttl: int, max_items: int = 1000) -> int | None:
        if self.down:
            return None
        items = self.lists.setdefault(key, [])
        items.append(item)
        del items[:-max_items]
        return len(items)

    async def incr(self, key: str, *, ttl: int) -> int | None:
        if self.down:
            return None
        value = int(self.data.get(key, b"0")) + 1
        self.data[key] = str(value).encode()
        return value

    async def extend(
        self, key: str, items: Sequence[bytes], *, ttl: int, max_items: int = 1000, fresh: bool = False
    ) -> int | None:
        if self.down:
            return None
        if fresh:
            self.lists.pop(key, None)
        stored = self.lists.setdefault(key, [])
        stored.extend(items)
        del stored[:-max_items]
        return len(stored)

    async def read_list(self, key: str, start: int = 0) -> list[bytes]:
        return [] if self.down else list(self.lists.get(key, [])[start:])

    async def delete_prefix(self, prefix: str) -> int:
        keys = [k for k in [*self.data, *self.lists] if k.startswith(prefix)]
        await self.delete(*keys)
        return len(keys)

    async def health(self) -> HealthStatus:
        return HealthStatus("degraded" if self.down else "ok", self.backend, "down" if self.down else "")

    async def close(self) -> None:
        return None


__all__ = ["FakeCache", "FakeStore"]
