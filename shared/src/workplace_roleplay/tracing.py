"""Spans for every layer, over the OpenTelemetry *API* only (ADR 0028).

The API (``opentelemetry-api``) is already loaded by FastAPI; the SDK and the exporters are imported by
``adapters/trace_export.py`` only when ``TRACE_EXPORTER`` is not ``none``. Until ``enable`` is called
every helper here is a constant-time no-op (no context switch, no span object), so tracing off costs a
flag check per call site.

Attributes never carry learner text: callers pass model names, tasks, counts, codes and path templates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Tracer

AttributeValue = str | bool | int | float

_tracer: Tracer | None = None


def enable(provider: trace.TracerProvider) -> None:
    """Start recording spans through ``provider`` (called once at startup by the exporter setup)."""
    global _tracer
    _tracer = provider.get_tracer("workplace_roleplay")


def disable() -> None:
    global _tracer
    _tracer = None


def enabled() -> bool:
    return _tracer is not None


@contextmanager
def span(
    name: str, attributes: Mapping[str, AttributeValue] | None = None, *, kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[Span | None]:
    """A child span of the current one, current inside the block (None when tracing is off)."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(name, attributes=attributes, kind=kind) as current:
        yield current


def start(
    name: str, attributes: Mapping[str, AttributeValue] | None = None, *, kind: SpanKind = SpanKind.INTERNAL
) -> Span | None:
    """A child span of the current one that the caller ends (for async generators: never made current,
    so closing the generator from another task cannot detach the wrong context)."""
    if _tracer is None:
        return None
    return _tracer.start_span(name, attributes=attributes, kind=kind)


@contextmanager
def use(target: Span | None) -> Iterator[None]:
    """Make ``target`` current inside the block (a no-op without a span). Keep the block free of ``yield``."""
    if target is None:
        yield
        return
    with trace.use_span(target, end_on_exit=False, record_exception=False, set_status_on_exception=False):
        yield


def annotate(attributes: Mapping[str, AttributeValue]) -> None:
    """Set attributes on the current span (the model span, from inside the model gateway)."""
    if _tracer is not None:
        trace.get_current_span().set_attributes(attributes)


def event(name: str, attributes: Mapping[str, AttributeValue] | None = None) -> None:
    """Add an event (a retry, a fallback) to the current span."""
    if _tracer is not None:
        trace.get_current_span().add_event(name, attributes=attributes)


def ids() -> tuple[str, str, bool] | None:
    """(trace id, span id, sampled) of the current span in hex, for log correlation."""
    if _tracer is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}", context.trace_flags.sampled


def exemplar() -> dict[str, str] | None:
    """A Prometheus exemplar naming the current trace (None when there is none)."""
    current = ids()
    if current is None or not current[2]:
        return None
    return {"trace_id": current[0], "span_id": current[1]}


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current trace context (``traceparent`` and ``X-Cloud-Trace-Context``) to outgoing headers."""
    if _tracer is not None:
        propagate.inject(headers)


def set_attributes(target: Span | None, attributes: Mapping[str, Any]) -> None:
    """Set the attributes that are not None (a no-op without a span)."""
    if target is not None:
        target.set_attributes({k: v for k, v in attributes.items() if v is not None})
