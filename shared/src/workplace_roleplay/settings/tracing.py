"""Distributed-tracing settings (docs/architecture.md, Observability; ADR 0028)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class TracingSettings(BaseSettings):
    """Where spans go. ``none`` (the default) imports no OpenTelemetry SDK at all."""

    TRACE_EXPORTER: Literal["none", "console", "file", "otlp", "cloud_trace"] = Field(
        "none",
        description="Span exporter: none (tracing off, nothing imported), console (stderr), file (JSON lines in "
        "TRACE_FILE), otlp (OTLP/HTTP to TRACE_OTLP_ENDPOINT), cloud_trace (Cloud Trace API).",
    )
    TRACE_FILE: Path = Field(
        Path(".data/traces.jsonl"), description="JSON-lines span file of TRACE_EXPORTER=file (one span a line)."
    )
    TRACE_OTLP_ENDPOINT: str = Field(
        "http://127.0.0.1:4318/v1/traces", description="OTLP/HTTP traces endpoint of TRACE_EXPORTER=otlp."
    )
    TRACE_SAMPLE_RATIO: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of new traces sampled (a sampled parent from the load balancer is always followed).",
    )
