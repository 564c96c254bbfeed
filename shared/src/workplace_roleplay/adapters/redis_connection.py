"""One Redis client (short timeouts, bounded pool, one retry) behind a circuit breaker.

The cache and the rate limiter share it, so a service holds one connection pool and one view of
whether Redis is up. Every call goes through :meth:`RedisConnection.call`, which never raises for an
outage: it returns :data:`UNAVAILABLE` and the caller degrades (miss, dropped write, local limits).

Two topologies (``REDIS_MODE``, ADR 0019): ``standalone`` is one primary (Memorystore STANDARD_HA);
``cluster`` is :class:`redis.asyncio.RedisCluster` (Memorystore for Redis Cluster), which discovers
every shard from the one node ``REDIS_URL`` names and routes each command by its key's slot. The
breaker is per connection, not per shard: while one shard fails over, calls skip Redis for the
cool-down (they degrade exactly like a standalone outage) and the probe after it finds the new primary.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeAlias, TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.credentials import CredentialProvider
from redis.exceptions import (
    ClusterDownError,
    CrossSlotTransactionError,
    InvalidPipelineStack,
    MaxConnectionsError,
    RedisClusterException,
    RedisError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from workplace_roleplay.adapters.breaker import CircuitBreaker
from workplace_roleplay.ports import Clock, HealthStatus
from workplace_roleplay.telemetry import CACHE_EVENTS

log = logging.getLogger(__name__)

T = TypeVar("T")

# What adapters receive in ``call``: both speak the same commands; only the routing differs.
RedisClient: TypeAlias = Redis | RedisCluster
RedisMode: TypeAlias = Literal["standalone", "cluster"]
# Errors a call may end with: redis-py's cluster client raises RedisClusterException (not a
# RedisError) when no node answers or a slot has no primary; OSError covers raw socket/TLS errors.
CALL_ERRORS: Final = (RedisError, RedisClusterException, OSError)

BACKEND: Final = "redis"
# A pooled connection idle this long is PINGed before use, so a Redis restart costs no failed call.
HEALTH_CHECK_INTERVAL_S: Final = 15
# Per instance; Memorystore's basic tier allows 65 000 clients, Cloud Run scales to tens of instances. Above the
# admission limit (ADMISSION_MAX_IN_FLIGHT, up to 100 streamed turns, each with at most one replay-buffer flush
# in flight) plus pages and rate-limit checks: a full pool refuses the call (MaxConnectionsError), which drops a
# replay-buffer write (ADR 0030). Connections are opened only when needed.
MAX_CONNECTIONS: Final = 160


class Unavailable:
    """The marker a call returns when Redis was skipped or did not answer."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNAVAILABLE"


UNAVAILABLE: Final = Unavailable()


def _is_outage(exc: BaseException) -> bool:
    """Errors that mean "Redis is not answering" (as opposed to a refused command)."""
    if isinstance(exc, MaxConnectionsError):
        # Our own pool is saturated: Redis is fine, only this call degrades.
        return False
    # redis-py's ConnectionError/TimeoutError are not the builtins; OSError covers raw socket/TLS errors
    # and the builtin TimeoutError of our per-call budget. On a cluster, CLUSTERDOWN/MASTERDOWN (a shard
    # without a primary during failover) and an unreachable or uncovered cluster are outages too; a
    # CROSSSLOT refusal is not (it is a key-design bug, logged as a refusal).
    if isinstance(exc, RedisClusterException):
        return not isinstance(exc, CrossSlotTransactionError | InvalidPipelineStack)
    return isinstance(exc, RedisConnectionError | RedisTimeoutError | ClusterDownError | OSError)


class RedisConnection:
    """A shared Redis client whose calls degrade instead of failing while Redis is down."""

    def __init__(self, client: RedisClient, *, clock: Clock, budget_s: float, cooldown_s: float = 2.0) -> None:
        if budget_s <= 0:
            raise ValueError("budget_s must be > 0")
        self._client = client
        self.mode: RedisMode = "cluster" if isinstance(client, RedisCluster) else "standalone"
        self._budget_s = budget_s
        self._refusals_logged: set[tuple[str, str]] = set()
        self.breaker = CircuitBreaker(name=BACKEND, clock=clock, cooldown_s=cooldown_s)
        self.clock = clock

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout_s: float,
        clock: Clock,
        cooldown_s: float = 2.0,
        max_connections: int = MAX_CONNECTIONS,
        mode: RedisMode = "standalone",
        credential_provider: CredentialProvider | None = None,
    ) -> RedisConnection:
        """Build the client without connecting (the first call connects).

        ``redis://`` or ``rediss://`` (TLS, as Memorystore's in-transit encryption needs), with AUTH as
        ``rediss://:password@host:6378/0`` or ``rediss://user:password@...``. Query options override
        the defaults here, e.g. ``?ssl_ca_certs=/etc/memorystore-ca.pem`` or ``?socket_timeout=0.5``.
        With ``mode="cluster"`` the URL names any one node (Memorystore: the discovery endpoint).
        """
        options: dict[str, Any] = {
            "socket_connect_timeout": timeout_s,
            "socket_timeout": timeout_s,
            # One immediate retry rides over a pooled connection the server closed (restart,
            # idle timeout, a shard's new primary); more would multiply the timeout when blackholed.
            "retry": Retry(NoBackoff(), 1),
            "health_check_interval": HEALTH_CHECK_INTERVAL_S,
            "max_connections": max_connections,
        }
        if credential_provider is not None:
            # IAM auth (Memorystore): a token per new connection instead of a password in the URL.
            options["credential_provider"] = credential_provider
        client: RedisClient
        if mode == "cluster":
            # Without full coverage the other shards keep answering while one fails over.
            client = RedisCluster.from_url(url, require_full_coverage=False, **options)
        else:
            client = Redis.from_url(url, **options)
        # redis-py retries the connect handshake and the command separately, so a hung host could cost
        # four socket timeouts; one budget per call caps it at two (room for the one retry).
        return cls(client, clock=clock, budget_s=2 * timeout_s, cooldown_s=cooldown_s)

    @property
    def client(self) -> RedisClient:
        """The raw client, for adapters that need a script or pipeline (always call through ``call``)."""
        return self._client

    async def call(
        self, op: str, fn: Callable[[RedisClient], Awaitable[T]], *, bounded: bool = True
    ) -> T | Unavailable:
        """Run ``fn`` against Redis unless the breaker is open; UNAVAILABLE instead of any Redis error.

        ``bounded=False`` lifts the per-call budget (each command keeps its socket timeout) for long
        multi-command work such as a SCAN over the keyspace, which must not read as an outage.
        """
        if not self.breaker.allow():
            CACHE_EVENTS.labels(BACKEND, op, "skipped").inc()
            return UNAVAILABLE
        try:
            async with asyncio.timeout(self._budget_s if bounded else None):
                result = await fn(self._client)
        except CALL_ERRORS as exc:
            CACHE_EVENTS.labels(BACKEND, op, "error").inc()
            if _is_outage(exc):
                self.breaker.failure(exc)
            else:
                # Redis answered (a refused command, a saturated local pool): not an outage.
                self.breaker.success()
                self._log_refusal(op, exc)
            return UNAVAILABLE
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        return result

    def _log_refusal(self, op: str, exc: BaseException) -> None:
        # Once per (operation, error): a refused write (e.g. OOM) repeats on every call; metrics count them.
        seen = (op, type(exc).__name__)
        if seen in self._refusals_logged:
            return
        self._refusals_logged.add(seen)
        log.warning("redis refused %s: %s", op, type(exc).__name__, extra={"op": op, "error": seen[1]})

    async def health(self) -> HealthStatus:
        """ok when Redis answers PING; degraded (with the reason) while it is down or being bypassed."""
        if not self.breaker.allow():
            wait = self.breaker.remaining_cooldown()
            return HealthStatus("degraded", BACKEND, f"bypassed, next probe in {wait:.1f}s ({self.breaker.last_error})")
        try:
            async with asyncio.timeout(self._budget_s):
                await self._ping()
        except CALL_ERRORS as exc:
            if _is_outage(exc):
                self.breaker.failure(exc)
            else:
                self.breaker.success()
            return HealthStatus("degraded", BACKEND, f"{type(exc).__name__}: {exc}"[:200])
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        return HealthStatus("ok", BACKEND)

    async def _ping(self) -> None:
        if isinstance(self._client, RedisCluster):
            # Every primary must answer: a shard without one means some keys cannot be served.
            await self._client.ping(target_nodes=RedisCluster.PRIMARIES)
        else:
            await self._client.ping()

    async def close(self) -> None:
        """Close the client and its pool."""
        try:
            await self._client.aclose()
        except CALL_ERRORS as exc:  # closing a dead connection must not fail shutdown
            log.debug("redis close: %s", type(exc).__name__)
