"""How the model gateway stays resilient: the backoff policy, one call's retry bookkeeping, and each
model's health (its circuit breaker, ``adapters/breaker.py``, and the standby-credential switch)."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from workplace_roleplay import telemetry, tracing
from workplace_roleplay.adapters.breaker import BREAKER_LEVEL, CircuitBreaker
from workplace_roleplay.adapters.simple_model import SimpleReason
from workplace_roleplay.errors import ModelOverloaded, ModelTimeout, ModelUnavailable
from workplace_roleplay.ports.clock import Clock
from workplace_roleplay.settings.model import ModelSettings

log = logging.getLogger("workplace_roleplay.model")


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


class Attempts:
    """Retry bookkeeping of one call: attempts per model and the shared waiting budget."""

    def __init__(self, settings: ModelSettings, backoff: Backoff, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.settings, self.policy, self.sleep = settings, backoff, sleep
        self.waited = 0.0
        self.last_error: ModelUnavailable | None = None
        self.count = 0

    def begin(self, model: str) -> None:
        """One more upstream attempt (an event and the running count on the model span; ADR 0028)."""
        self.count += 1
        tracing.event("model.attempt", {"model": model, "attempt": self.count})
        tracing.annotate({"model.attempts": self.count})

    def simple_reason(self) -> SimpleReason:
        """Why the simple mode answers: busy models (or open breakers), or models that refused us."""
        if self.last_error is None or isinstance(self.last_error, ModelOverloaded | ModelTimeout):
            return SimpleReason.OVERLOADED
        return SimpleReason.UNAVAILABLE

    async def backoff(self, model: str, attempt: int, exc: ModelUnavailable) -> bool:
        """Sleep before the next attempt on ``model``; False when it should move on instead."""
        s = self.settings
        # A timeout already cost a whole first-token budget; a hung model is tried once, then the other.
        if not isinstance(exc, ModelOverloaded) or attempt + 1 >= s.MODEL_RETRY_ATTEMPTS:
            return False
        delay = self.policy.delay(attempt, exc.retry_after)
        if delay > s.MODEL_RETRY_MAX_DELAY_S or self.waited + delay > s.MODEL_RETRY_BUDGET_S:
            log.info("model retry skipped: wait too long", extra={"model": model, "wait_s": round(delay, 2)})
            return False
        self.waited += delay
        await self.sleep(delay)
        return True


class Credentials(Protocol):
    """The part of a model backend that holds its API credential and its standby."""

    @property
    def credential(self) -> str: ...

    def switch_credential(self) -> bool: ...


class ModelHealth:
    """Each model's breaker and the breaker-state gauge; the one switch to the standby credential."""

    def __init__(self, credentials: Credentials, settings: ModelSettings, clock: Clock) -> None:
        self.credentials, self.settings, self.clock = credentials, settings, clock
        self.breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, model: str) -> CircuitBreaker:
        if model not in self.breakers:
            self.breakers[model] = CircuitBreaker(
                name=model,
                threshold=self.settings.MODEL_BREAKER_FAILURES,
                cooldown_s=self.settings.MODEL_BREAKER_COOLDOWN_S,
                clock=self.clock,
                announce=False,  # the model gateway keeps its own breaker-state gauge
            )
        return self.breakers[model]

    def gauge(self, model: str) -> None:
        telemetry.MODEL_BREAKER_STATE.labels(model=model).set(BREAKER_LEVEL[self.breaker(model).state])

    def failed(self, model: str, exc: ModelUnavailable) -> None:
        telemetry.MODEL_ERRORS.labels(model=model, code=exc.code).inc()
        tracing.event("model.attempt_failed", {"model": model, "error_code": exc.code})
        if isinstance(exc, ModelOverloaded | ModelTimeout):
            self.breaker(model).failure(exc)
        else:
            self.breaker(model).release()
        self.gauge(model)
        log.warning("model call failed", extra={"model": model, "error_code": exc.code, **exc.extra})

    def succeeded(self, model: str) -> None:
        self.breaker(model).success()
        self.gauge(model)

    def credential_rejected(self, model: str, used: str) -> bool:
        """Switch to the standby credential (once); True when the call should be repeated."""
        if self.credentials.credential != used:
            return True  # a concurrent call already switched
        switched = self.credentials.switch_credential()
        if switched:
            telemetry.MODEL_FALLBACKS.labels(task="any", kind="standby_credential").inc()
        # Alert-worthy: a revoked or leaked key. Never logged for quota (429) errors.
        log.error(
            "model credential rejected" + ("; switched to the standby credential" if switched else ""),
            extra={
                "security_event": "model_credential_rejected",
                "credential_from": used,
                "credential_to": self.credentials.credential if switched else None,
                "model": model,
            },
        )
        return switched
