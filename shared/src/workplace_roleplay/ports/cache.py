"""The cache port: best-effort, every key expires, an outage reads as a miss.

Key names and their Redis Cluster hash tags are listed in docs/redis-keys.md and built in
``ports/cache_keys.py`` (``stream:{<turn_id>}``, ``user_session:{<user_id>}``, ``ratelimit:{<subject>}:…``,
``ai_cache:<hash>``, ``tts_cache:<hash>``, ``scenario_cache:*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """Health of one dependency as ``/ready`` reports it."""

    status: Literal["ok", "degraded", "unavailable"]
    backend: str
    detail: str = ""


def check_list_write(ttl: int, max_items: int, items: Sequence[bytes] | None = None) -> None:
    """Refuse a list write every adapter refuses: a TTL that never expires, ``max_items`` < 1, no items."""
    check_ttl(ttl)
    if max_items < 1:
        raise ValueError("max_items must be >= 1")
    if items is not None and not items:
        raise ValueError("extend needs at least one item")


def check_ttl(ttl: int) -> None:
    """Refuse a TTL that would let a key live forever (every adapter validates the same way)."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
        raise ValueError(f"ttl must be an int >= 1 second, got {ttl!r}")


class Cache(Protocol):
    """A key-value cache with mandatory TTLs. Never raises for an outage: reads miss, writes drop."""

    backend: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl: int) -> None:
        """Store ``value`` for ``ttl`` seconds (``ttl`` >= 1, required: no key lives forever)."""
        ...

    async def delete(self, *keys: str) -> None: ...

    async def touch(self, key: str, *, ttl: int) -> None:
        """Reset the TTL of an existing key (sliding expiry)."""
        ...

    async def append(self, key: str, item: bytes, *, ttl: int, max_items: int = 1000) -> int | None:
        """Append to a list kept under ``key`` (resets its TTL); returns the new length, None on outage."""
        ...

    async def incr(self, key: str, *, ttl: int) -> int | None:
        """Add one to the counter under ``key`` and return it; a new counter starts at 1 with ``ttl`` (the TTL is
        not renewed by later calls). None on outage."""
        ...

    async def extend(
        self, key: str, items: Sequence[bytes], *, ttl: int, max_items: int = 1000, fresh: bool = False
    ) -> int | None:
        """``append`` of several items in one round trip, in order; ``fresh`` drops the list first (atomically).

        ``items`` must not be empty. Returns the new length, None on outage (then nothing was written).
        """
        ...

    async def read_list(self, key: str, start: int = 0) -> list[bytes]:
        """Items of the list from index ``start`` ([] when missing or on outage)."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix`` (ops: cache clear); returns how many."""
        ...

    async def health(self) -> HealthStatus: ...

    async def close(self) -> None: ...
