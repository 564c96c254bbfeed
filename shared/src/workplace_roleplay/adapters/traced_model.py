"""A ``LanguageModel`` that records one span per model call (used only when tracing is on; ADR 0028).

``model.<call>`` spans carry the task, the model that answered, the generation mode (model or simple),
the attempts and the fallback reason (set by the gateway inside the span), the time to the first text
delta and the token counts. Never the prompt or the reply.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from opentelemetry.trace import SpanKind, StatusCode

from workplace_roleplay import tracing
from workplace_roleplay.ports.model import (
    Completion,
    GenerationRequest,
    LanguageModel,
    M,
    StreamEvent,
    Structured,
    TextDelta,
)


def _completion_attributes(completion: Completion) -> dict[str, Any]:
    return {
        "model.name": completion.model,
        "model.mode": completion.mode.value,
        "model.finish_reason": completion.finish_reason,
        "model.partial": completion.partial,
        "model.error_code": completion.error_code or None,
        "model.input_tokens": completion.usage.input_tokens,
        "model.output_tokens": completion.usage.output_tokens,
    }


class TracedModel:
    def __init__(self, inner: LanguageModel) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        span = tracing.start("model.stream", {"model.task": request.task.value}, kind=SpanKind.CLIENT)
        started, first = time.perf_counter(), False
        upstream = self.inner.stream(request)
        try:
            while True:
                # Current only while the gateway works on the next event: its attempts, fallbacks and
                # Redis calls land in this span, and no context is left attached across our own yield.
                with tracing.use(span):
                    try:
                        event = await upstream.__anext__()
                    except StopAsyncIteration:
                        return
                if isinstance(event, TextDelta) and not first and span is not None:
                    first = True
                    span.set_attribute("model.first_token_ms", round((time.perf_counter() - started) * 1000, 1))
                elif isinstance(event, Completion):
                    tracing.set_attributes(span, _completion_attributes(event))
                yield event
        except BaseException as exc:
            if span is not None and not isinstance(exc, GeneratorExit):
                span.set_status(StatusCode.ERROR, type(exc).__name__)
            raise
        finally:
            with tracing.use(span):
                await upstream.aclose()
            if span is not None:
                span.end()

    async def generate(self, request: GenerationRequest) -> Completion:
        with tracing.span("model.generate", {"model.task": request.task.value}, kind=SpanKind.CLIENT) as span:
            completion = await self.inner.generate(request)
            tracing.set_attributes(span, _completion_attributes(completion))
            return completion

    async def generate_structured(self, request: GenerationRequest, schema: type[M]) -> Structured[M]:
        attributes = {"model.task": request.task.value, "model.schema": schema.__name__}
        with tracing.span("model.generate_structured", attributes, kind=SpanKind.CLIENT) as span:
            result = await self.inner.generate_structured(request, schema)
            tracing.set_attributes(span, {**_completion_attributes(result.completion), "model.cached": result.cached})
            return result

    async def embed(self, texts: Sequence[str], *, task: str) -> list[list[float]] | None:
        with tracing.span("model.embed", {"model.embed_task": task, "model.texts": len(texts)}, kind=SpanKind.CLIENT):
            return await self.inner.embed(texts, task=task)

    async def close(self) -> None:
        await self.inner.close()
