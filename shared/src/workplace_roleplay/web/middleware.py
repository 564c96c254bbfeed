"""The request middleware: request id, trace context, body limit, metrics and one access log line.

Pure ASGI (not ``BaseHTTPMiddleware``) so streamed responses pass through untouched.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workplace_roleplay.web.admission import release_held
from workplace_roleplay.web.context import (
    accept_request_id,
    parse_trace,
    request_id_var,
    service_var,
    trace_var,
)
from workplace_roleplay.web.grammar import parse_content_length
from workplace_roleplay.web.metrics import ERRORS, LATENCY, REQUESTS

log = logging.getLogger("workplace_roleplay.access")

_UNMATCHED = "unmatched"


class RequestContextMiddleware:
    """Outermost middleware of every service."""

    def __init__(self, app: ASGIApp, *, service: str, max_body_bytes: int) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = accept_request_id(headers.get("x-request-id"))
        trace = parse_trace(headers.get("traceparent"), headers.get("x-cloud-trace-context"))
        service_var.set(self.service)
        rid_token = request_id_var.set(request_id)
        trace_token = trace_var.set(trace)
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # Streaming routes measure the learner's wait for the first token from here (web/turn_stream.py).
        state["request_started"] = started
        status = 500
        first_byte: float | None = None

        declared = parse_content_length(headers.get("content-length"))
        if declared is not None and declared > self.max_body_bytes:
            await _too_large(send, request_id)
            status = 413
            self._record(scope, status, started, first_byte)
            request_id_var.reset(rid_token)
            trace_var.reset(trace_token)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge()
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status, first_byte
            if message["type"] == "http.response.start":
                status = message["status"]
                first_byte = time.perf_counter()
                raw: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                raw.append((b"x-request-id", request_id.encode()))
                message["headers"] = raw
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except _BodyTooLarge:
            if first_byte is None:
                await _too_large(send, request_id)
                status = 413
        finally:
            # The response has ended (or the client went away): give back an admission slot it held.
            release_held(state)
            self._record(scope, status, started, first_byte)
            request_id_var.reset(rid_token)
            trace_var.reset(trace_token)

    def _record(self, scope: Scope, status: int, started: float, first_byte: float | None) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or _UNMATCHED
        method = scope["method"]
        elapsed = time.perf_counter() - started
        REQUESTS.labels(self.service, template, method, str(status)).inc()
        LATENCY.labels(self.service, template, method).observe(elapsed)
        if status >= 500:
            ERRORS.labels(self.service, template, method).inc()
        # Health probes are frequent and uninteresting; keep them out of the access log.
        if template.endswith(("/health", "/ready")) or template == "/metrics":
            return
        log.info(
            "%s %s %s",
            method,
            template,
            status,
            extra={
                "httpRequest": {
                    "requestMethod": method,
                    "requestUrl": scope["path"],
                    "status": status,
                    "latency": f"{elapsed:.6f}s",
                },
                "route": template,
                "ttfb_ms": round((first_byte - started) * 1000, 2) if first_byte else None,
            },
        )


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a chunked body passes the limit; FastAPI re-raises HTTPExceptions."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


async def _too_large(send: Send, request_id: str) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "payload_too_large",
                "message": "送信内容が大きすぎます。短くしてもう一度お試しください。",
                "message_en": "The request is too large. Please shorten it and try again.",
                "request_id": request_id,
            }
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
