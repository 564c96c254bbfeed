"""Backoff policy for retried model calls (the circuit breaker is ``adapters/breaker.py``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


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
