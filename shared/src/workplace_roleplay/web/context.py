"""Per-request context (request id, trace) carried in contextvars for logs."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    sampled: bool


request_id_var: ContextVar[str] = ContextVar("request_id", default="")
service_var: ContextVar[str] = ContextVar("service", default="")
trace_var: ContextVar[TraceContext | None] = ContextVar("trace", default=None)

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/([0-9]{1,20}))?(?:;o=([01]))?$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def parse_trace(traceparent: str | None, cloud_trace: str | None) -> TraceContext | None:
    """Read W3C ``traceparent`` first, then Google's ``X-Cloud-Trace-Context``."""
    if traceparent:
        m = _TRACEPARENT.fullmatch(traceparent.strip().lower())
        if m and set(m.group(1)) != {"0"}:
            return TraceContext(m.group(1), m.group(2), int(m.group(3), 16) & 1 == 1)
    if cloud_trace:
        m = _CLOUD_TRACE.fullmatch(cloud_trace.strip())
        if m:
            span = f"{int(m.group(2)):016x}" if m.group(2) else "0" * 16
            return TraceContext(m.group(1).lower(), span[-16:], m.group(3) == "1")
    return None


def accept_request_id(value: str | None) -> str:
    """Keep a sane incoming ``X-Request-ID`` or make a new one."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return secrets.token_hex(8)
