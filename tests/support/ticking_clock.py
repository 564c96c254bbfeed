"""A clock for unit tests that moves forward one second every time it is read (strict write order)."""

from __future__ import annotations


class TickingClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        self.t += 1.0
        return self.t

    def monotonic(self) -> float:
        return self.t
