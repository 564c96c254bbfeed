"""create_app: health, readiness, errors, request ids, trace-correlated logs, metrics, docs, body limit."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.errors import NotFound, RateLimited
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.settings import ChatSettings, ServiceSettings
from workplace_roleplay.web.app import create_app


class Echo(BaseModel):
    text: str


def _router() -> APIRouter:
    router = APIRouter(prefix="/api/v2/chat")

    @router.get("/missing")
    async def missing() -> None:
        raise NotFound("conversation c1")

    @router.get("/limited")
    async def limited() -> None:
        raise RateLimited(7)

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    @router.post("/echo")
    async def echo(body: Echo) -> Echo:
        logging.getLogger("test.echo").info("echoing", extra={"chars": len(body.text)})
        return body

    @router.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return router


class Harness:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.cache = FakeCache()

    @asynccontextmanager
    async def open(self, settings: ServiceSettings) -> AsyncIterator[Resources]:
        yield Resources(settings=settings, store=self.store, cache=self.cache, clock=SystemClock())


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
def app(harness: Harness) -> FastAPI:
    settings = ChatSettings(MAX_REQUEST_BYTES=2048, LOG_JSON=True)
    return create_app(settings, service="chat", routers=[_router()], resources=harness.open)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest.mark.parametrize("path", ["/health", "/api/v2/chat/health"])
async def test_health_at_root_and_under_prefix(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["service"] == "chat"


async def test_health_names_the_cloud_run_revision_when_no_version_is_set(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SERVICE_VERSION", raising=False)
    monkeypatch.setenv("K_REVISION", "chat-00042-abc")
    app = create_app(ChatSettings(), service="chat", routers=[], resources=harness.open)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            assert (await c.get("/health")).json()["version"] == "chat-00042-abc"


async def test_ready_reports_store_and_cache(client: httpx.AsyncClient, harness: Harness) -> None:
    ok = (await client.get("/api/v2/chat/ready")).json()
    assert ok == {
        "status": "ok",
        "service": "chat",
        "checks": {
            "store": {"status": "ok", "backend": "fake", "detail": ""},
            "cache": {"status": "ok", "backend": "fake", "detail": ""},
        },
    }
    harness.cache.down = True
    degraded = await client.get("/ready")
    assert degraded.status_code == 200
    assert degraded.json()["status"] == "degraded"
    harness.store.down = True
    down = await client.get("/ready")
    assert down.status_code == 503
    assert down.json()["checks"]["store"]["status"] == "unavailable"


async def test_app_error_maps_to_json_with_japanese_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/chat/missing", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["code"] == "not_found"
    assert body["message"] == "お探しのページやデータが見つかりませんでした。"
    assert body["request_id"] == "req-123"
    assert response.headers["x-request-id"] == "req-123"


async def test_rate_limited_carries_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/chat/limited")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["retry_after"] == 7


async def test_unhandled_error_is_500_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/chat/boom")
    assert response.status_code == 500
    assert "unexpected" not in response.text
    assert response.json()["error"]["code"] == "internal_error"


async def test_browser_pages_get_the_html_error_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat/nowhere", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "お探しのページやデータが見つかりませんでした。" in response.text


async def test_validation_errors_are_422_with_details(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v2/chat/echo", json={"wrong": 1})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"][0]["loc"] == ["body", "text"]


async def test_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v2/chat/echo", json={"text": "あ" * 2000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_chunked_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    response = await client.post("/api/v2/chat/echo", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_logs_are_json_with_trace_correlation(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await client.post(
        "/api/v2/chat/echo",
        json={"text": "秘密の本文"},
        headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    echo = next(line for line in lines if line["message"] == "echoing")
    assert echo["severity"] == "INFO"
    assert echo["logging.googleapis.com/trace"].endswith(trace)
    assert echo["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"
    assert echo["chars"] == 5
    access = next(line for line in lines if line.get("route") == "/api/v2/chat/echo")
    assert access["httpRequest"]["status"] == 200
    assert all("秘密の本文" not in json.dumps(line, ensure_ascii=False) for line in lines)


async def test_cloud_trace_header_is_understood(client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]) -> None:
    await client.post(
        "/api/v2/chat/echo",
        json={"text": "x"},
        headers={"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    echo = next(line for line in lines if line["message"] == "echoing")
    assert echo["logging.googleapis.com/trace"].endswith("105445aa7843bc8bf206b12000100000")
    assert echo["logging.googleapis.com/trace_sampled"] is True


async def test_metrics_count_requests_per_route_template(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await client.get(f"/api/v2/chat/items/{i}")
    await client.get("/api/v2/chat/boom")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/api/v2/chat/items/{item_id}",service="chat",status="200"}' in text
    assert 'http_request_errors_total{method="GET",route="/api/v2/chat/boom",service="chat"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v2/chat/items/{item_id}"' in text


async def test_openapi_docs_are_served_under_the_prefix(client: httpx.AsyncClient) -> None:
    spec = await client.get("/api/v2/chat/openapi.json")
    assert spec.status_code == 200
    assert "/api/v2/chat/echo" in spec.json()["paths"]
    docs = await client.get("/api/v2/chat/docs")
    assert docs.status_code == 200
    assert "/api/v2/chat/openapi.json" in docs.text
