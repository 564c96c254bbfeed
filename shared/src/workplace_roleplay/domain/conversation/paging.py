"""One paging helper: fetch ``limit + 1`` rows to know whether there is a next page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    limit: int
    offset: int
    next_offset: int | None


async def page(fetch: Callable[[int, int], Awaitable[Sequence[T]]], *, limit: int, offset: int) -> Page[T]:
    """``fetch(limit, offset)`` asked for one row more than shown: its presence means another page."""
    rows = await fetch(limit + 1, offset)
    more = len(rows) > limit
    return Page(items=list(rows[:limit]), limit=limit, offset=offset, next_offset=offset + limit if more else None)
