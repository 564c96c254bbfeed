"""Small in-process fakes of our own ports, for unit tests of the web layer and the domain."""

from __future__ import annotations

import asyncio
import copy
import operator
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from workplace_roleplay.errors import AlreadyExists, NotFound, StoreUnavailable
from workplace_roleplay.ports import DocumentSnapshot, Filter, HealthStatus, JsonValue, Transaction

T = TypeVar("T")


class FakeStore:
    """A dict-backed document store (no ordering guarantees beyond what tests need)."""

    backend = "fake"

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.queried: list[tuple[str, tuple[Filter, ...]]] = []  # (collection, filters) of every query
        self.down = False
        self._tx_lock = asyncio.Lock()

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        doc = self.docs.get(path)
        return copy.deepcopy(doc) if doc is not None else None

    async def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        base = self.docs.get(path, {}) if merge else {}
        self.docs[path] = {**base, **copy.deepcopy(dict(data))}

    async def create(self, path: str, data: Mapping[str, JsonValue]) -> None:
        if path in self.docs:
            raise AlreadyExists(path)
        self.docs[path] = copy.deepcopy(dict(data))

    async def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        if path not in self.docs:
            raise NotFound(path)
        self.docs[path].update(copy.deepcopy(dict(fields)))

    async def delete(self, path: str) -> None:
        self.docs.pop(path, None)

    async def query(
        self,
        collection: str,
        *,
        where: Sequence[Filter] = (),
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[DocumentSnapshot]:
        self.queried.append((collection, tuple(where)))
        depth = collection.count("/") + 1
        rows = [
            DocumentSnapshot(p, copy.deepcopy(d))
            for p, d in self.docs.items()
            if p.startswith(collection + "/")
            and p.count("/") == depth
            and all(_matches(d.get(f.field), f.op, f.value) for f in where)
        ]
        if order_by:
            rows.sort(key=lambda s: str(s.data.get(order_by)), reverse=descending)
        rows = rows[offset:]
        return rows[:limit] if limit is not None else rows

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]], *, attempts: int = 5) -> T:
        # One transaction at a time, writes buffered until ``fn`` returns: atomic for in-process tests.
        async with self._tx_lock:
            tx = _FakeTransaction(self)
            result = await fn(tx)
            for apply in tx.writes:
                await apply()
            return result

    async def ping(self) -> None:
        if self.down:
            raise StoreUnavailable("fake store is down")

    async def close(self) -> None:
        return None


def _matches(value: Any, op: str, wanted: Any) -> bool:
    """Firestore's comparison semantics, enough for tests: a missing field never matches."""
    if op == "in":
        return value in wanted
    if op == "==":
        return bool(value == wanted)
    if op == "!=":
        return value is not None and value != wanted
    if value is None or (
        type(value) is not type(wanted) and not (isinstance(value, int | float) and isinstance(wanted, int | float))
    ):
        return False
    return bool({"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op](value, wanted))


class _FakeTransaction:
    """Reads go to the store; writes wait until the transaction function returns."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.writes: list[Callable[[], Awaitable[None]]] = []

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        return await self.store.get(path)

    def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        self.writes.append(lambda: self.store.set(path, data, merge=merge))

    def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        self.writes.append(lambda: self.store.update(path, fields))

    def delete(self, path: str) -> None:
        self.writes.append(lambda: self.store.delete(path))


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
