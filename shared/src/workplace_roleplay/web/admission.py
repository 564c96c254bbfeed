"""Per-process admission of model-calling requests: beyond capacity, a fast 503 instead of a slow or broken stream.

One process streams a limited number of turns at once before its event loop is saturated and every
learner's first token slips by seconds (ADR 0027). ``admit`` (a route dependency, next to the model
rate limit) takes a slot or raises ``ServerBusy`` (503, ``Retry-After``, Japanese message); the request
middleware gives the slot back when the response has ended — streamed to its last event, failed, or
abandoned by the client — so a slot is never leaked and an admitted stream is never cut.

``AdmissionGate`` (ASGI middleware) answers that same 503 *before* routing, authentication and body
parsing while the process is at capacity, for the routes that take slots (learnt by ``admit``): at
c=1000 most requests are refused, and each refusal then costs a route match and a small JSON body
instead of a token check and a parsed body (ADR 0032).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from fastapi import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from workplace_roleplay.errors import ServerBusy
from workplace_roleplay.telemetry import ADMISSION_IN_FLIGHT, ADMISSION_REJECTED
from workplace_roleplay.web.errors import error_response

# Where the slot's release waits for the middleware (scope["state"]).
RELEASE_KEY = "admission_release"


class Admission:
    """A counter of admitted requests with a hard limit (0: no limit). Event-loop only: no locking needed."""

    def __init__(self, *, service: str, limit: int, retry_after_s: int) -> None:
        self.service = service
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.in_flight = 0
        # Routes whose requests took (or asked for) a slot, by identity: what ``AdmissionGate`` refuses early.
        self._routes: dict[int, BaseRoute] = {}

    def learn(self, route: object) -> None:
        if isinstance(route, BaseRoute) and id(route) not in self._routes:
            self._routes[id(route)] = route

    def guarded(self, scope: Scope) -> BaseRoute | None:
        """The known slot-taking route this request would reach (path and method), if any."""
        for route in self._routes.values():
            if route.matches(scope)[0] is Match.FULL:
                return route
        return None

    @property
    def full(self) -> bool:
        return bool(self.limit) and self.in_flight >= self.limit

    def reject(self) -> ServerBusy:
        """Count one refusal; the error to answer it with."""
        ADMISSION_REJECTED.labels(self.service).inc()
        return ServerBusy(self.retry_after_s, detail=f"{self.in_flight} requests in flight")

    def try_enter(self) -> bool:
        if self.full:
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
    admission.learn(request.scope.get("route"))
    if not admission.try_enter():
        raise admission.reject()
    hold(state, admission.leave)


class AdmissionGate:
    """Answer ``ServerBusy`` before routing, auth and body parsing while the process is at capacity.

    The routes it guards are the ones ``admit`` has seen (``Admission.learn``): a process is full only
    when admitted requests hold every slot, so by then the routes that take slots are known, with no
    reading of the router's internals. A route not yet seen falls through to ``admit``, which refuses it
    (a little later) and teaches the gate. Sits inside ``RequestContextMiddleware`` (request id, metrics,
    access log). The answer is rendered by the error map itself (``web.errors.error_response``): the same
    503 as the dependency's, ``Retry-After``, ``server_busy``, the Japanese message, HTML for pages.
    """

    def __init__(self, app: ASGIApp, *, admission: Admission) -> None:
        self.app = app
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.admission.full:
            route = self.admission.guarded(scope)
            if route is not None:
                scope["route"] = route  # metrics and the learner-error count by route template
                response = error_response(Request(scope), self.admission.reject(), 503)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
