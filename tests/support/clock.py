"""A clock tests move by hand."""

from __future__ import annotations


class ManualClock:
    """Implements the ``Clock`` port; time passes only through :meth:`advance`."""

    def __init__(self, *, now: float = 1_800_000_000.0, monotonic: float = 1_000.0) -> None:
        self._now = now
        self._monotonic = monotonic

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go back")
        self._now += seconds
        self._monotonic += seconds
