"""The pub/sub port: fan a small message out to whoever listens on a channel right now (watch mode).

Best effort like the cache: nothing is stored, a listener that is not subscribed misses the message,
and an outage never fails a request (``publish`` answers None, a subscription just stays quiet, so
the caller falls back to reading the store). Channel names follow docs/redis-keys.md: a channel
carries its owner's hash tag (``watch:{<conversation_id>}``) because on a cluster sharded pub/sub
routes a channel by its slot like a key.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol


class Subscription(Protocol):
    """Messages of one channel, in order, from the moment of subscribing."""

    async def next(self, timeout_s: float) -> bytes | None:
        """The next message, or None when none arrived within ``timeout_s`` (or the backend is down)."""
        ...


class PubSub(Protocol):
    """PUBLISH/SUBSCRIBE on one server, SPUBLISH/SSUBSCRIBE on a cluster, queues in process."""

    backend: str

    async def publish(self, channel: str, message: bytes) -> int | None:
        """Deliver ``message`` to the channel's current subscribers; how many got it, None on outage."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """Listen on ``channel`` for the life of the context."""
        ...
