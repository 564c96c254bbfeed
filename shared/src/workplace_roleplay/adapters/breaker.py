"""The one circuit breaker: skip a backend while it is known to be down (Redis, each Gemini model).

Closed: every call goes through. After ``threshold`` consecutive failures (or a failed probe) the
breaker opens for ``cooldown_s`` and calls are skipped (they degrade at once instead of paying a
timeout each). When the cool-down is over one call at a time is let through as a probe: success
closes the breaker, failure opens it again. With ``announce`` the transitions (up -> down, down -> up)
are logged once and kept in the ``cache_up`` gauge; the model gateway keeps its own gauge instead.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from workplace_roleplay.ports import Clock
from workplace_roleplay.telemetry import CACHE_UP

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls flow
    OPEN = "open"  # calls are refused until the cool-down ends
    HALF_OPEN = "half_open"  # the cool-down is over: one probe call may go (or is in flight)


# Gauge values of the model breaker-state metric.
BREAKER_LEVEL = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class CircuitBreaker:
    """Tracks whether a backend answers; decides whether the next call may try it."""

    def __init__(
        self, *, name: str, clock: Clock, cooldown_s: float = 2.0, threshold: int = 1, announce: bool = True
    ) -> None:
        if cooldown_s <= 0 or threshold < 1:
            raise ValueError("cooldown_s must be > 0 and threshold >= 1")
        self.name, self.cooldown_s, self.threshold, self.announce = name, cooldown_s, threshold, announce
        self._clock = clock
        self._open_until: float | None = None  # None: closed
        self._failures = 0
        self._probing = False
        self._up = True
        self.last_error = ""
        if announce:
            CACHE_UP.labels(name).set(1)

    @property
    def is_open(self) -> bool:
        """True while the backend is considered down (calls are being skipped or probed)."""
        return self._open_until is not None

    @property
    def state(self) -> BreakerState:
        if self._open_until is None:
            return BreakerState.CLOSED
        if self._probing or self._clock.monotonic() >= self._open_until:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

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
        self._failures = 0
        self.last_error = ""
        if not self._up:
            self._up = True
            if self.announce:
                CACHE_UP.labels(self.name).set(1)
                log.warning("%s is reachable again; using it", self.name, extra={"backend": self.name})

    def failure(self, error: BaseException | None = None) -> None:
        """The backend did not answer (refused, timed out, overloaded): count it, open at the threshold."""
        self._failures += 1
        if error is not None:
            self.last_error = f"{type(error).__name__}: {error}"[:200]
        if self._probing or self._failures >= self.threshold:
            self._open_until = self._clock.monotonic() + self.cooldown_s
            self._down(error)
        self._probing = False

    def _down(self, error: BaseException | None) -> None:
        if not self._up:
            return
        self._up = False
        if self.announce:
            CACHE_UP.labels(self.name).set(0)
            log.warning(
                "%s is unreachable; bypassing it (probing every %.1f s)",
                self.name,
                self.cooldown_s,
                extra={"backend": self.name, "error": type(error).__name__ if error else ""},
            )

    def release(self) -> None:
        """A call ended without telling us anything (cancelled): free the probe slot."""
        self._probing = False
