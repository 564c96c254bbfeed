"""Our spans (ADR 0028) over a private SDK provider and an in-memory exporter: store and model spans carry
shapes, counts and codes but no ids or learner text; logs carry the current span; Cloud Tasks carry the
trace; with tracing off every helper is a no-op."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.fakes import FakeStore
from workplace_roleplay import tracing
from workplace_roleplay.adapters.cloud_tasks import build_task
from workplace_roleplay.adapters.simple_model import SimpleModel
from workplace_roleplay.adapters.traced_model import TracedModel
from workplace_roleplay.adapters.traced_store import TracedStore, path_shape
from workplace_roleplay.ports.model import ChatMessage, Completion, GenerationRequest, ModelTask, TextDelta
from workplace_roleplay.ports.tasks import Task
from workplace_roleplay.web.logs import CloudJsonFormatter

SECRET = "上司にだけ打ち明けた悩みです"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    try:
        yield exporter
    finally:
        tracing.disable()
        provider.shutdown()


def test_tracing_off_records_nothing_and_injects_nothing() -> None:
    assert not tracing.enabled()
    with tracing.span("x") as span:
        assert span is None
    assert tracing.start("y") is None
    assert tracing.ids() is None
    assert tracing.exemplar() is None
    headers: dict[str, str] = {}
    tracing.inject(headers)
    assert headers == {}


def test_path_shape_hides_every_id() -> None:
    assert path_shape("users/u1/conversations/c9/messages/t1-r") == "users/{id}/conversations/{id}/messages/{id}"
    assert path_shape("users/u1/reports") == "users/{id}/reports"


async def test_store_spans_name_the_operation_and_the_path_shape(spans: InMemorySpanExporter) -> None:
    store = TracedStore(FakeStore())
    await store.set("users/u1/conversations/c1", {"title": SECRET})
    await store.get("users/u1/conversations/c1")
    await store.query("users/u1/conversations")
    finished = spans.get_finished_spans()
    assert [s.name for s in finished] == ["store.set", "store.get", "store.query"]
    assert finished[0].attributes == {
        "db.system": "fake",
        "db.operation": "set",
        "db.collection": "users/{id}/conversations/{id}",
    }
    assert finished[2].attributes is not None
    assert finished[2].attributes["db.rows"] == 1
    assert "u1" not in json.dumps([dict(s.attributes or {}) for s in finished])


async def test_model_span_has_task_mode_first_token_and_tokens_but_no_text(spans: InMemorySpanExporter) -> None:
    model = TracedModel(SimpleModel())
    request = GenerationRequest(
        task=ModelTask.CONVERSATION_TURN, system="system", messages=[ChatMessage(role="user", text=SECRET)]
    )
    with tracing.span("turn"):
        events = [e async for e in model.stream(request)]
    assert isinstance(events[0], TextDelta)
    assert isinstance(events[-1], Completion)
    model_span, turn_span = spans.get_finished_spans()
    assert model_span.name == "model.stream"
    assert model_span.parent is not None
    assert model_span.parent.span_id == turn_span.context.span_id
    attributes = dict(model_span.attributes or {})
    assert attributes["model.task"] == "conversation_turn"
    assert attributes["model.mode"] == "simple"
    assert isinstance(attributes["model.first_token_ms"], float)
    assert attributes["model.first_token_ms"] >= 0
    assert "model.output_tokens" in attributes
    dumped = json.dumps(attributes, ensure_ascii=False) + json.dumps([e.name for e in model_span.events])
    assert SECRET not in dumped
    assert SECRET[:5] not in dumped


def test_logs_carry_the_current_span_and_tasks_carry_the_trace(spans: InMemorySpanExporter) -> None:
    formatter = CloudJsonFormatter("chat", "demo")
    with tracing.span("enqueue") as span:
        assert span is not None
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello", (), None)
        entry = json.loads(formatter.format(record))
        task = build_task(
            Task(name="legacy-1", kind="legacy_session", payload={"ref": "x"}),
            queue="projects/p/locations/l/queues/q",
            worker_url="https://worker.example",
            invoker_email="invoker@example.iam.gserviceaccount.com",
        )
        context = span.get_span_context()
    trace_id, span_id = f"{context.trace_id:032x}", f"{context.span_id:016x}"
    assert entry["logging.googleapis.com/trace"] == f"projects/demo/traces/{trace_id}"
    assert entry["logging.googleapis.com/spanId"] == span_id
    traceparent = task.http_request.headers["traceparent"]
    assert traceparent.startswith(f"00-{trace_id}-{span_id}-")
    assert int(traceparent[-2:], 16) & 1  # sampled
    assert tracing.exemplar() is None  # outside the span
