"""Prometheus metrics of the web layer and the ``/metrics`` endpoint."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

# Metric objects are process-wide; several services in one process (make run) share them by label.
REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by service, route template, method and status.",
    ["service", "route", "method", "status"],
)
ERRORS = Counter(
    "http_request_errors_total",
    "HTTP requests answered 5xx (or failed before answering).",
    ["service", "route", "method"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to the end of the response, seconds.",
    ["service", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

# What the learner waits for on a streaming route: from the request's arrival to the first ``token`` event
# handed to the client. Unlike ``model_time_to_first_token_seconds`` (upstream only) it includes persistence,
# prompt building, moderation, retries, fallbacks and the breaker's decisions (the alert watches this one).
STREAM_FIRST_TOKEN = Histogram(
    "stream_first_token_seconds",
    "Time from the request's arrival to the first token event written to the client, by service and route.",
    ["service", "route"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60),
)


async def metrics_endpoint(request: Request) -> Response:
    """Every registered metric: Prometheus text, or OpenMetrics (with exemplars: trace ids) when asked."""
    if "application/openmetrics-text" in request.headers.get("accept", ""):
        from prometheus_client.openmetrics import exposition

        body: bytes = exposition.generate_latest(REGISTRY)  # type: ignore[no-untyped-call]
        return Response(body, media_type=exposition.CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
