"""One chat turn through ``make stack`` with ``TRACE_EXPORTER=file`` is one trace (ADR 0028).

Real processes: nginx (which starts the trace: its ``$request_id`` is the trace id), the chat service on the
Firestore emulator, Redis, and the fake Gemini server. The spans every process appended to the stack's span
file must form one tree under nginx's entry and carry no learner text.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.stack_runner import nginx_binary, start_stack, stop_stack
from tests.support.redis_server import RedisServer
from tools import traces
from tools.ops.stack_state import read_state

pytestmark = pytest.mark.integration

SECRET_LINE = "部長にだけ話した秘密の相談内容です"


def _spans_of(path: Path, trace_id: str, *, need: set[str], within_s: float = 15.0) -> list[dict[str, Any]]:
    """The trace's spans once every name prefix in ``need`` is there (the model span ends last)."""
    deadline = time.monotonic() + within_s
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = [s for s in traces.read_spans(path) if s["trace_id"] == trace_id] if path.exists() else []
        if all(any(s["name"].startswith(n) for s in found) for n in need):
            return found
        time.sleep(0.2)
    return found


def _entry_request_id(access_log: Path) -> str:
    """nginx's request id of the streamed chat turn (nginx flushes its access log each second)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in access_log.read_text().splitlines():
            if '"POST /api/v2/chat HTTP' in line:
                return line.split("request_id=", 1)[1].split()[0]
        time.sleep(0.2)
    raise AssertionError(f"no chat turn in {access_log}")


def test_one_chat_turn_is_one_trace_from_nginx_to_the_model(
    tmp_path: Path, private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    nginx_binary()
    if shutil.which("gcloud") is None:
        pytest.fail("the Firestore emulator is required: gcloud with the cloud-firestore-emulator component")
    monkeypatch.setenv("TRACE_EXPORTER", "file")
    stack = start_stack(tmp_path / "stack", store="firestore", candidates="", redis_url=private_redis.url, model="fake")
    try:
        with httpx.Client(base_url=stack.url, timeout=30) as client:
            token = client.post("/api/v2/auth/anonymous").json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
            body = {"message": SECRET_LINE, "client_message_id": uuid.uuid4().hex}
            with client.stream("POST", "/api/v2/chat", json=body, headers=headers) as stream:
                assert stream.status_code == 200
                events = [line for line in stream.iter_lines() if line.startswith("event: ")]
            assert "event: done" in events, events
        trace_id = _entry_request_id(stack.run_dir / "nginx" / "access.log")
        spans = _spans_of(stack.run_dir / "traces.jsonl", trace_id, need={"POST", "store.", "model.stream"})
        # The learner's first-token histogram names this trace in its exemplar (OpenMetrics, straight from chat).
        chat = next(p for p in read_state(stack.run_dir).processes if p.service == "chat")
        metrics = httpx.get(
            f"http://127.0.0.1:{chat.port}/metrics", headers={"Accept": "application/openmetrics-text"}, timeout=10
        ).text
    finally:
        stop_stack(stack)

    by_id = {s["span_id"]: s for s in spans}
    names = sorted({s["name"] for s in spans})
    # The entry: the chat service's SERVER span is the child of nginx's (remote) entry span.
    roots = [s for s in spans if s["parent_id"] not in by_id]
    assert len(roots) == 1, names
    root = roots[0]
    assert root["kind"] == "SERVER", root
    assert root["service"].startswith("chat"), root
    assert root["parent_remote"]
    assert root["parent_id"] == trace_id[:16]
    assert root["attributes"]["http.route"] == "/api/v2/chat"
    # What the turn touched: the store, Redis and the model, all in this one trace.
    assert any(s["name"].startswith("store.") and s["attributes"]["db.system"] == "firestore" for s in spans), names
    assert any(s["attributes"].get("db.system") == "redis" for s in spans), names
    model = [s for s in spans if s["name"] == "model.stream"]
    assert model, names
    attrs = model[0]["attributes"]
    assert attrs["model.task"] in {"conversation_turn", "opening"}
    assert attrs["model.mode"] == "model"
    assert attrs["model.name"]
    assert attrs["model.first_token_ms"] >= 0
    assert attrs["model.attempts"] >= 1
    assert attrs["model.output_tokens"] >= 0
    # Parent chain intact: every span reaches the root.
    for span in spans:
        hops, current = 0, span
        while current["parent_id"] in by_id:
            current, hops = by_id[current["parent_id"]], hops + 1
            assert hops < 50
        assert current is root, span["name"]
    # No learner text in any attribute or event (nor any recognisable piece of it).
    dumped = json.dumps(spans, ensure_ascii=False)
    for piece in (SECRET_LINE, SECRET_LINE[:6], SECRET_LINE[-6:]):
        assert piece not in dumped
    exemplars = [line for line in metrics.splitlines() if line.startswith("stream_first_token_seconds_bucket")]
    assert any(f'trace_id="{trace_id}"' in line for line in exemplars), exemplars
    # The documented command finds the turn among the slowest spans.
    out: list[str] = []
    assert traces.main(["--file", str(stack.run_dir / "traces.jsonl"), "slowest", "--minutes", "5"], out.append) == 0
    assert any(trace_id in line for line in out), out
    print("\n".join(traces._line(s, "  " * d) for d, s in traces.tree(spans, trace_id)))  # the report's trace
