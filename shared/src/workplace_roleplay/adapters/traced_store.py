"""A ``DocumentStore`` that records one span per call (used only when tracing is on; ADR 0028).

Span attributes name the operation and the path's *shape* (``users/{id}/conversations/{id}``), never ids
or document contents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from opentelemetry.trace import SpanKind

from workplace_roleplay import tracing
from workplace_roleplay.ports.store import DocumentSnapshot, DocumentStore, Filter, JsonValue, Transaction

T = TypeVar("T")


def path_shape(path: str) -> str:
    """``users/u1/conversations/c9`` -> ``users/{id}/conversations/{id}`` (collections keep their names)."""
    return "/".join("{id}" if i % 2 else part for i, part in enumerate(path.split("/")))


class TracedStore:
    """Wraps a store; every call is a CLIENT span ``store.<op>`` with ``db.system`` and the path's shape."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner
        self.backend = inner.backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _span(self, op: str, path: str) -> Any:
        return tracing.span(
            f"store.{op}",
            {"db.system": self.backend, "db.operation": op, "db.collection": path_shape(path)},
            kind=SpanKind.CLIENT,
        )

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        with self._span("get", path):
            return await self.inner.get(path)

    async def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        with self._span("set", path):
            await self.inner.set(path, data, merge=merge)

    async def create(self, path: str, data: Mapping[str, JsonValue]) -> None:
        with self._span("create", path):
            await self.inner.create(path, data)

    async def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        with self._span("update", path):
            await self.inner.update(path, fields)

    async def delete(self, path: str) -> None:
        with self._span("delete", path):
            await self.inner.delete(path)

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
        with self._span("query", collection) as span:
            found = await self.inner.query(
                collection, where=where, order_by=order_by, descending=descending, limit=limit, offset=offset
            )
            tracing.set_attributes(span, {"db.rows": len(found)})
            return found

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]], *, attempts: int = 5) -> T:
        with self._span("transaction", ""):
            return await self.inner.run_transaction(fn, attempts=attempts)

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()
