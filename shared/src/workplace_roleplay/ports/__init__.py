"""Protocols the domain depends on; adapters implement them. Nothing here does I/O."""

from workplace_roleplay.ports.cache import Cache, HealthStatus
from workplace_roleplay.ports.clock import Clock, SystemClock
from workplace_roleplay.ports.ratelimit import RateDecision, RateLimiter
from workplace_roleplay.ports.store import (
    EXPIRES_AT,
    DocumentSnapshot,
    DocumentStore,
    Filter,
    FilterOp,
    JsonValue,
    Transaction,
)

__all__ = [
    "EXPIRES_AT",
    "Cache",
    "Clock",
    "DocumentSnapshot",
    "DocumentStore",
    "Filter",
    "FilterOp",
    "HealthStatus",
    "JsonValue",
    "RateDecision",
    "RateLimiter",
    "SystemClock",
    "Transaction",
]
