"""Process-wide Prometheus metrics recorded below the web layer (adapters, domain).

``prometheus_client`` is plain Python with no I/O at import, so every layer may record here.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CACHE_EVENTS = Counter(
    "cache_operations_total",
    "Cache operations by backend, operation and outcome (hit, miss, error, skipped).",
    ["backend", "op", "outcome"],
)
CACHE_UP = Gauge(
    "cache_up", "1 when the cache backend answered its last call, 0 when it is being bypassed.", ["backend"]
)
STORE_ERRORS = Counter(
    "store_errors_total", "Document-store calls that failed, by backend and operation.", ["backend", "op"]
)
RATE_LIMIT_DECISIONS = Counter(
    "rate_limit_decisions_total",
    "Rate-limit decisions by backend (redis, memory, memory-fallback while Redis is down) and outcome.",
    ["backend", "outcome"],
)
