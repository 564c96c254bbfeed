"""Tracing setup: the OpenTelemetry SDK, the exporter the settings choose and the instrumentations (ADR 0028).

Called once per process at startup. With ``TRACE_EXPORTER=none`` it returns at once and nothing of the
SDK, the exporters or the instrumentations is ever imported (``python -X importtime`` shows it). Otherwise:

- a global ``TracerProvider`` (FastAPI's native telemetry then opens one SERVER span per request, continued
  from ``traceparent`` or ``X-Cloud-Trace-Context``), parent-based sampling at ``TRACE_SAMPLE_RATIO``;
- propagators for both headers, so outgoing calls and Cloud Tasks carry both;
- the Redis and httpx instrumentations (Redis commands are recorded sanitised: ``SET ? ?``);
- ``workplace_roleplay.tracing`` enabled, so our own spans (store, model) are recorded.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workplace_roleplay import tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from workplace_roleplay.settings import ServiceSettings

log = logging.getLogger("workplace_roleplay.tracing")

_shutdown: Callable[[], None] | None = None


def install_tracing(settings: ServiceSettings, *, service: str, version: str) -> bool:
    """Set up tracing for this process (idempotent: the first service of a process sets it up)."""
    global _shutdown
    if settings.TRACE_EXPORTER == "none" or _shutdown is not None:
        return _shutdown is not None
    from opentelemetry import propagate, trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.propagators.cloud_trace_propagator import CloudTraceFormatPropagator
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    resource = Resource.create(
        {"service.name": service, "service.version": version, "deployment.environment": settings.ENV.value}
    )
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.TRACE_SAMPLE_RATIO)))
    exporter = _exporter(settings)
    # Local sinks write each span as it ends (a developer reads them at once); remote ones batch.
    local = settings.TRACE_EXPORTER in ("console", "file")
    provider.add_span_processor(SimpleSpanProcessor(exporter) if local else BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    # Later propagators win on extract: a W3C traceparent beats the legacy Google header.
    propagate.set_global_textmap(CompositePropagator([CloudTraceFormatPropagator(), TraceContextTextMapPropagator()]))
    RedisInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    tracing.enable(provider)

    def shutdown() -> None:
        global _shutdown
        tracing.disable()
        provider.shutdown()
        _shutdown = None

    _shutdown = shutdown
    log.info("tracing on", extra={"trace_exporter": settings.TRACE_EXPORTER})
    return True


def flush_tracing() -> None:
    """Export every finished span now (shutdown of a service, tests)."""
    from opentelemetry import trace

    provider: Any = trace.get_tracer_provider()
    if hasattr(provider, "force_flush"):
        provider.force_flush()


def _exporter(settings: ServiceSettings) -> SpanExporter:
    kind = settings.TRACE_EXPORTER
    if kind == "file":
        from workplace_roleplay.adapters.trace_file import JsonFileSpanExporter

        return JsonFileSpanExporter(settings.TRACE_FILE)
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        # stderr: stdout carries the JSON logs.
        return ConsoleSpanExporter(out=sys.stderr, formatter=lambda s: s.to_json(indent=None) + "\n")
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.TRACE_OTLP_ENDPOINT)
    from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter

    exporter: SpanExporter = CloudTraceSpanExporter(project_id=settings.GOOGLE_CLOUD_PROJECT or None)  # type: ignore[no-untyped-call]
    return exporter
