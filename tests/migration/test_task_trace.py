"""A bulk-migration task continues its enqueuer's trace (ADR 0028): the Cloud Task built while a span is current
carries that span in its headers, and the worker's SERVER span, handling exactly that request (Cloud Tasks sends
the task's headers as they are), is its child. Runs in a fresh interpreter with ``TRACE_EXPORTER=file``: the
tracer provider is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import asyncio, hashlib, json, sys
from pathlib import Path
from tests.migration.http_app import LocalIssuer, app_for, migration_settings, serving
from tests.support.legacy import filesystem_legacy, realistic_session
from workplace_roleplay import tracing
from workplace_roleplay.adapters.cloud_tasks import build_task
from workplace_roleplay.domain.migration.bulk import TASK_KIND
from workplace_roleplay.ports.tasks import Task

tmp = Path(sys.argv[1])
cookie = filesystem_legacy(tmp / "flask_session").seed(realistic_session(user_id=None))
ref = hashlib.sha256(f"session:{cookie}".encode()).hexdigest()
issuer = LocalIssuer()

async def main():
    with issuer.serving():
        settings = migration_settings(
            tmp, f"filesystem:{tmp / 'flask_session'}", TASKS_OIDC_JWKS_URL=issuer.url,
            TRACE_EXPORTER="file", TRACE_FILE=tmp / "traces.jsonl",
        )
        async with serving(app_for(settings)) as client:
            with tracing.span("bulk_enqueue") as span:
                task = build_task(Task(name="legacy-1", kind=TASK_KIND, payload={"ref": ref}),
                                  queue="projects/p/locations/l/queues/q", worker_url=settings.TASKS_WORKER_URL,
                                  invoker_email=settings.TASKS_INVOKER_EMAIL)
                enqueuer = format(span.get_span_context().span_id, "016x")
            request = task.http_request
            headers = {**dict(request.headers), "Authorization": f"Bearer {issuer.token()}"}
            path = request.url.removeprefix(settings.TASKS_WORKER_URL)
            answer = await client.post(path, content=request.body, headers=headers)
            print(json.dumps({"status": answer.status_code, "enqueuer": enqueuer}))

asyncio.run(main())
"""


def test_the_worker_continues_the_enqueuers_trace(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    spans = [json.loads(line) for line in (tmp_path / "traces.jsonl").read_text().splitlines()]
    [enqueue] = [s for s in spans if s["name"] == "bulk_enqueue"]
    [worker] = [s for s in spans if s["kind"] == "SERVER"]
    assert worker["attributes"]["http.route"] == "/api/v2/migrate/tasks/session"
    assert worker["trace_id"] == enqueue["trace_id"]
    assert worker["parent_id"] == result["enqueuer"] == enqueue["span_id"]
    store_spans = [s for s in spans if s["name"].startswith("store.") and s["trace_id"] == enqueue["trace_id"]]
    assert store_spans, [s["name"] for s in spans]
