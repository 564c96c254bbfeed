"""Circuit breaker and backoff policy for calls to a flaky dependency (pure: time comes from a Clock)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from workplace_roleplay.ports.clock import Clock


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls flow
    OPEN = "open"  # calls are refused until the cool-down ends
    HALF_OPEN = "half_open"  # one probe call is in flight; its outcome closes or re-opens


# Gauge values of the breaker-state metric.
BREAKER_LEVEL = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures, lets one probe through after ``cooldown_s``."""

    def __init__(self, *, threshold: int, cooldown_s: float, clock: Clock) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probing or self._clock.monotonic() - self._opened_at >= self.cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open state only the first caller gets the probe."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._opened_at = self._clock.monotonic()
        self._probing = False

    def release(self) -> None:
        """A call that proved nothing (cancelled by its consumer) gives the probe back."""
        self._probing = False

    def seconds_until_probe(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown_s - (self._clock.monotonic() - self._opened_at))


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter that honours a server's ``Retry-After``."""

    base_s: float
    max_s: float
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0).

        A ``Retry-After`` is obeyed exactly (the server knows best), even above ``max_s``: the caller
        compares it with its budget and moves to the fallback when it is too long.
        """
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.max_s, self.base_s * (2.0**attempt))
        # "Equal jitter": at least half the delay, so retries never stampede back at once.
        return ceiling / 2 + self.jitter() * ceiling / 2
