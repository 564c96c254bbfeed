"""A small circuit breaker for optional backends (Redis): skip the backend while it is known to be down.

Closed: every call goes through. After a failure the breaker opens for ``cooldown_s`` and calls are
skipped (they degrade at once instead of paying a connect timeout each). When the cool-down is over
one call at a time is let through as a probe: success closes the breaker, failure opens it again.
Outages are logged once per transition (up -> down, down -> up), never per call.
"""

from __future__ import annotations

import logging

from workplace_roleplay.ports import Clock
from workplace_roleplay.telemetry import CACHE_UP

log = logging.getLogger(__name__)


class CircuitBreaker:
    """Tracks whether a backend answers; decides whether the next call may try it."""

    def __init__(self, *, name: str, clock: Clock, cooldown_s: float = 2.0) -> None:
        if cooldown_s <= 0:
            raise ValueError("cooldown_s must be > 0")
        self.name = name
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._open_until: float | None = None  # None: closed
        self._probing = False
        self._up = True
        self.last_error = ""
        CACHE_UP.labels(name).set(1)

    @property
    def is_open(self) -> bool:
        """True while the backend is considered down (calls are being skipped or probed)."""
        return self._open_until is not None

    def remaining_cooldown(self) -> float:
        """Seconds until the next probe is allowed (0 when closed or due)."""
        if self._open_until is None:
            return 0.0
        return max(0.0, self._open_until - self._clock.monotonic())

    def allow(self) -> bool:
        """May a call try the backend now? At most one probe runs while the breaker is open."""
        if self._open_until is None:
            return True
        if self._probing or self._clock.monotonic() < self._open_until:
            return False
        self._probing = True
        return True

    def success(self) -> None:
        """The backend answered."""
        self._probing = False
        self._open_until = None
        self.last_error = ""
        if not self._up:
            self._up = True
            CACHE_UP.labels(self.name).set(1)
            log.warning("%s is reachable again; using it", self.name, extra={"backend": self.name})

    def failure(self, error: BaseException) -> None:
        """The backend did not answer (connection refused, timeout, ...): skip it for a cool-down."""
        self._probing = False
        self._open_until = self._clock.monotonic() + self.cooldown_s
        self.last_error = f"{type(error).__name__}: {error}"[:200]
        if self._up:
            self._up = False
            CACHE_UP.labels(self.name).set(0)
            log.warning(
                "%s is unreachable; bypassing it (probing every %.1f s)",
                self.name,
                self.cooldown_s,
                extra={"backend": self.name, "error": type(error).__name__},
            )

    def release(self) -> None:
        """A call ended without telling us anything (cancelled): free the probe slot."""
        self._probing = False
