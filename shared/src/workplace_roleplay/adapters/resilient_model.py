"""The ``LanguageModel`` the services use: routing, retries, breakers, fallbacks, ``ai_cache``.

Per call: the task's route gives the models to try (chosen model, then the other class). On each,
429/5xx are retried with backoff that honours ``Retry-After`` (a longer wait than we would back off
moves straight to the next model), inside one waiting budget per call, unless the model's breaker is
open. A timeout moves to the next model at once: it already cost a whole first-token budget. When
every model failed, the simple-response mode answers with a notice the UI shows. A rejected
credential (401/403) switches to the standby credential once, with an alert-worthy
``security_event`` log; quota errors never do (docs/architecture.md, Model: no key rotation around quota).

A stream that breaks after text was sent cannot be retried without repeating itself: it ends with a
``Completion(partial=True, error_code=...)`` carrying the text that arrived. Embeddings get one attempt
behind their own breaker and answer None on any failure (callers score lexically instead).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from workplace_roleplay import telemetry, tracing
from workplace_roleplay.adapters.ai_cache import AiCache, cache_key, is_cacheable
from workplace_roleplay.adapters.breaker import CircuitBreaker
from workplace_roleplay.adapters.model_resilience import Attempts, Backoff, ModelHealth
from workplace_roleplay.adapters.model_routing import ModelRouter
from workplace_roleplay.adapters.simple_model import SimpleModel, SimpleReason
from workplace_roleplay.errors import (
    ModelCredentialRejected,
    ModelRejected,
    ModelUnavailable,
)
from workplace_roleplay.ports.cache import Cache
from workplace_roleplay.ports.clock import Clock
from workplace_roleplay.ports.model import (
    Completion,
    GenerationMode,
    GenerationRequest,
    M,
    StreamEvent,
    Structured,
    TextDelta,
)
from workplace_roleplay.settings.model import ModelSettings

log = logging.getLogger("workplace_roleplay.model")
T = TypeVar("T")


class ModelBackend(Protocol):
    """One HTTP call per method call (the Gemini adapter, or anything speaking like it)."""

    backend: str

    @property
    def credential(self) -> str: ...

    def switch_credential(self) -> bool: ...

    def stream(self, model: str, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]: ...

    async def generate(
        self, model: str, request: GenerationRequest, *, schema: type[BaseModel] | None = None
    ) -> Completion: ...

    async def embed(
        self, model: str, texts: Sequence[str], *, task: str, dimensions: int, timeout_s: float
    ) -> list[list[float]]: ...

    async def close(self) -> None: ...


class ResilientModel:
    """A ``LanguageModel`` over a backend with routing, retries, breakers, fallbacks and ``ai_cache``."""

    def __init__(
        self,
        backend: ModelBackend,
        *,
        router: ModelRouter,
        settings: ModelSettings,
        clock: Clock,
        cache: Cache | None = None,
        simple: SimpleModel | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.backend = backend
        self.router = router
        self.settings = settings
        self.clock = clock
        self.simple = simple or SimpleModel(SimpleReason.OVERLOADED)
        self.sleep = sleep
        self.backoff = Backoff(settings.MODEL_RETRY_BASE_DELAY_S, settings.MODEL_RETRY_MAX_DELAY_S, jitter)
        self.ai_cache = AiCache(cache, ttl_s=settings.AI_CACHE_TTL_S) if cache is not None else None
        self.health = ModelHealth(backend, settings, clock)

    def breaker(self, model: str) -> CircuitBreaker:
        return self.health.breaker(model)

    def _moving_on(self, request: GenerationRequest, model: str, kind: str) -> None:
        telemetry.MODEL_FALLBACKS.labels(task=request.task.value, kind=kind).inc()
        tracing.annotate({"model.fallback_reason": kind})
        log.warning("model fallback", extra={"model": model, "fallback": kind, "task": request.task.value})

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        route = self.router.route(request.task)
        attempts = Attempts(self.settings, self.backoff, self.sleep)
        for position, model in enumerate(route.models):
            if position:
                self._moving_on(request, route.models[position - 1], "other_model")
            attempt = 0
            while self.breaker(model).allow():
                self.health.gauge(model)
                attempts.begin(model)
                used, parts = self.backend.credential, []
                upstream = self.backend.stream(model, request)
                try:
                    async for event in upstream:
                        if isinstance(event, TextDelta):
                            parts.append(event.text)
                        yield event
                    self.health.succeeded(model)
                    return
                except ModelUnavailable as exc:
                    self.health.failed(model, exc)
                    attempts.last_error = exc
                    if parts:
                        yield Completion(
                            text="".join(parts),
                            model=model,
                            mode=GenerationMode.MODEL,
                            finish_reason="ERROR",
                            partial=True,
                            error_code=exc.code,
                        )
                        return
                    if isinstance(exc, ModelCredentialRejected):
                        if self.health.credential_rejected(model, used):
                            continue
                        break
                    if not await attempts.backoff(model, attempt, exc):
                        break
                    attempt += 1
                except BaseException:
                    self.breaker(model).release()  # cancelled by the consumer: proves nothing
                    raise
                finally:
                    await upstream.aclose()
        self._moving_on(request, route.models[-1], "simple")
        async for event in self.simple.stream(request, reason=attempts.simple_reason()):
            yield event

    async def _call(
        self, request: GenerationRequest, call: Callable[[str], Awaitable[T]]
    ) -> tuple[T | None, SimpleReason]:
        """``call(model)`` along the route with retries; (None, why) when every model failed."""
        route = self.router.route(request.task)
        attempts = Attempts(self.settings, self.backoff, self.sleep)
        for position, model in enumerate(route.models):
            if position:
                self._moving_on(request, route.models[position - 1], "other_model")
            attempt = 0
            while self.breaker(model).allow():
                self.health.gauge(model)
                attempts.begin(model)
                used = self.backend.credential
                try:
                    result = await call(model)
                except ModelUnavailable as exc:
                    self.health.failed(model, exc)
                    attempts.last_error = exc
                    if isinstance(exc, ModelCredentialRejected):
                        if self.health.credential_rejected(model, used):
                            continue
                        break
                    if not await attempts.backoff(model, attempt, exc):
                        break
                    attempt += 1
                    continue
                except BaseException:
                    self.breaker(model).release()
                    raise
                self.health.succeeded(model)
                return result, SimpleReason.OVERLOADED
        self._moving_on(request, route.models[-1], "simple")
        return None, attempts.simple_reason()

    async def generate(self, request: GenerationRequest) -> Completion:
        async def call(model: str) -> Completion:
            return await self.backend.generate(model, request)

        result, reason = await self._call(request, call)
        return result if result is not None else await self.simple.generate(request, reason=reason)

    async def generate_structured(self, request: GenerationRequest, schema: type[M]) -> Structured[M]:
        primary = self.router.route(request.task).primary
        key = cache_key(primary, request, schema) if self.ai_cache and is_cacheable(request) else None
        if key is not None and self.ai_cache is not None:
            hit = await self.ai_cache.get(key, schema)
            if hit is not None:
                return hit

        async def call(model: str) -> Structured[M]:
            completion = await self.backend.generate(model, request, schema=schema)
            try:
                value = schema.model_validate_json(completion.text)
            except ValidationError as exc:
                raise ModelRejected(f"{model} returned JSON that does not match {schema.__name__}") from exc
            return Structured(value=value, completion=completion)

        result, reason = await self._call(request, call)
        if result is None:
            return await self.simple.generate_structured(request, schema, reason=reason)
        # Only the routed model's own answer is cached: a fallback's answer would outlive the outage.
        if key is not None and self.ai_cache is not None and result.completion.model == primary:
            await self.ai_cache.put(key, result)
        return result

    async def embed(self, texts: Sequence[str], *, task: str) -> list[list[float]] | None:
        """Vectors from ``MODEL_EMBEDDING``, or None (none configured, breaker open, any failure).

        One attempt, no retries and no fallback model: vectors of two models are not comparable, and
        callers have a lexical score to fall back on, so waiting would only delay the learner's turn.
        """
        model = self.settings.MODEL_EMBEDDING
        if not model:
            return None
        if not texts:
            return []
        breaker = self.breaker(model)
        allowed = breaker.allow()
        self.health.gauge(model)
        if not allowed:
            return None
        try:
            vectors = await self.backend.embed(
                model,
                texts,
                task=task,
                dimensions=self.settings.MODEL_EMBEDDING_DIMENSIONS,
                timeout_s=self.settings.MODEL_EMBEDDING_TIMEOUT_S,
            )
        except ModelUnavailable as exc:
            self.health.failed(model, exc)
            telemetry.MODEL_FALLBACKS.labels(task="embedding", kind="lexical").inc()
            return None
        except BaseException:
            breaker.release()
            raise
        self.health.succeeded(model)
        return vectors

    async def close(self) -> None:
        await self.backend.close()
