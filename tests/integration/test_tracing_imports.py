"""Tracing off imports nothing of the OpenTelemetry SDK, exporters or instrumentations at startup (checked with
``python -X importtime`` on a real chat service start); tracing on (file sink) does, and writes spans, but not for
health probes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STARTUP = """
import asyncio
import httpx
from functions.chat.main import create

app = create()

async def main():
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/api/v2/chat/health")).status_code == 200
            assert (await client.get("/api/v2/chat")).status_code == 200

asyncio.run(main())
"""
SDK = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")


def start_chat(tmp_path: Path, exporter: str) -> list[str]:
    env = {
        **os.environ,
        "ENV": "local",
        "DATA_DIR": str(tmp_path / exporter),
        "TRACE_EXPORTER": exporter,
        "TRACE_FILE": str(tmp_path / exporter / "traces.jsonl"),
    }
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", STARTUP], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]


def test_tracing_off_imports_no_sdk_and_on_imports_it_and_records(tmp_path: Path) -> None:
    off = start_chat(tmp_path, "none")
    assert [m for m in off if m.startswith(SDK)] == []
    on = start_chat(tmp_path, "file")
    assert "opentelemetry.sdk.trace" in on
    assert "opentelemetry.instrumentation.redis" in on
    spans = [json.loads(line) for line in (tmp_path / "file" / "traces.jsonl").read_text().splitlines()]
    server = [s for s in spans if s["kind"] == "SERVER"]
    # The service index is traced; the health probe is not (probes and scrapes make no trace).
    assert [s["attributes"]["http.route"] for s in server] == ["/api/v2/chat"]
