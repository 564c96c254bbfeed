"""Per-process admission of model-calling requests: beyond capacity, a fast 503 instead of a slow or broken stream.

One process streams a limited number of turns at once before its event loop is saturated and every
learner's first token slips by seconds (ADR 0027). ``admit`` (a route dependency, next to the model
rate limit) takes a slot or raises ``ServerBusy`` (503, ``Retry-After``, Japanese message) before any
work is done; the request middleware gives the slot back when the response has ended — streamed to
its last event, failed, or abandoned by the client — so a slot is never leaked and an admitted
stream is never cut.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from fastapi import Request

from workplace_roleplay.errors import ServerBusy
from workplace_roleplay.telemetry import ADMISSION_IN_FLIGHT, ADMISSION_REJECTED

# Where the slot's release waits for the middleware (scope["state"]).
RELEASE_KEY = "admission_release"


class Admission:
    """A counter of admitted requests with a hard limit (0: no limit). Event-loop only: no locking needed."""

    def __init__(self, *, service: str, limit: int, retry_after_s: int) -> None:
        self.service = service
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.in_flight = 0

    def try_enter(self) -> bool:
        if self.limit and self.in_flight >= self.limit:
            ADMISSION_REJECTED.labels(self.service).inc()
            return False
        self.in_flight += 1
        ADMISSION_IN_FLIGHT.labels(self.service).set(self.in_flight)
        return True

    def leave(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        ADMISSION_IN_FLIGHT.labels(self.service).set(self.in_flight)


def hold(state: MutableMapping[str, Any], release: Callable[[], None]) -> None:
    """Park a slot's release on the request; ``release_held`` runs it once."""
    state[RELEASE_KEY] = release


def release_held(state: MutableMapping[str, Any]) -> None:
    release = state.pop(RELEASE_KEY, None)
    if release is not None:
        release()


async def admit(request: Request) -> None:
    """Dependency: take a slot for this request or answer 503 at once."""
    admission: Admission | None = getattr(request.app.state, "admission", None)
    if admission is None:
        return
    state = request.scope.setdefault("state", {})
    if RELEASE_KEY in state:
        return  # already admitted (the dependency declared twice)
    if not admission.try_enter():
        raise ServerBusy(admission.retry_after_s, detail=f"{admission.in_flight} requests in flight")
    hold(state, admission.leave)
