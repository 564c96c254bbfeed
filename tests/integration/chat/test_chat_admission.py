"""Beyond the process's admission limit a new turn gets a fast 503, never a broken stream (ADR 0027)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.integration.chat.conftest import StartServer
from tests.support.chat_server import stream_turn
from tests.support.fake_gemini import FakeGeminiControl

pytestmark = pytest.mark.integration


def in_flight(service: str) -> float | None:
    """The admission gauge of ``service`` (None until the process admitted a request)."""
    return REGISTRY.get_sample_value("admission_in_flight", {"service": service})


async def test_a_turn_beyond_capacity_is_refused_at_once_and_admitted_streams_finish(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="お疲れさまです。今日はどうしましたか？", chunk_chars=4, ttft_ms=600)
    server = await start_server(ADMISSION_MAX_IN_FLIGHT=1, ADMISSION_RETRY_AFTER_S=3)
    _, first_headers = await server.sign_in()
    _, second_headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        admitted = asyncio.create_task(stream_turn(client, first_headers, {"partner_type": "senior"}))
        # The first turn holds the one slot, waiting for the model's first token.
        await asyncio.to_thread(fake_gemini.wait_for, "in_flight", 1)
        started = time.monotonic()
        refused = await client.post(
            "/api/v2/chat", json={"partner_type": "senior"}, headers={**second_headers, "Accept": "text/event-stream"}
        )
        refused_after = time.monotonic() - started
        status, events, raw = await admitted

        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "3"
        body = refused.json()["error"]
        assert body["code"] == "server_busy"
        assert body["message"] == "ただいま混雑しています。少し待ってから、もう一度送信してください。"
        assert body["retry_after"] == 3
        assert refused_after < 0.5, "the refusal must not wait for the running turn"
        assert status == 200, raw
        assert events[-1].name == "done", "the admitted stream is never cut"
        assert len(fake_gemini.requests(method="streamGenerateContent")) == 1, (
            "the refused turn never reached the model"
        )

        # The slot came back when the stream ended: the next turn is admitted.
        assert in_flight(server.app.state.admission.service) == 0
        status, events, raw = await stream_turn(client, second_headers, {"partner_type": "senior"})
        assert status == 200, raw
        assert events[-1].name == "done"


async def test_a_client_that_goes_away_gives_its_slot_back(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="お疲れさまです。" * 5, chunk_chars=2, chunk_delay_ms=100)
    server = await start_server(ADMISSION_MAX_IN_FLIGHT=1)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        async with client.stream(
            "POST", "/api/v2/chat", json={"partner_type": "senior"}, headers={**headers, "Accept": "text/event-stream"}
        ) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line == "event: token":
                    break  # leave mid-stream
        for _ in range(100):
            if in_flight(server.app.state.admission.service) == 0:
                break
            await asyncio.sleep(0.05)
        assert in_flight(server.app.state.admission.service) == 0
        status, events, raw = await stream_turn(client, headers, {"partner_type": "senior"})
        assert status == 200, raw
        assert events[-1].name == "done"


def rejected(service: str) -> float:
    return REGISTRY.get_sample_value("admission_rejected_total", {"service": service}) or 0.0


async def test_a_full_process_refuses_before_authentication_and_body_parsing(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="お疲れさまです。今日はどうしましたか？", chunk_chars=4, ttft_ms=800)
    server = await start_server(ADMISSION_MAX_IN_FLIGHT=1, ADMISSION_RETRY_AFTER_S=2)
    _, headers = await server.sign_in()
    turn = {"Accept": "text/event-stream", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        # Not full: a broken body is answered by body parsing (422), a missing token by auth (401).
        assert (await client.post("/api/v2/chat", content=b"{not json", headers=turn)).status_code == 422
        assert (await client.post("/api/v2/chat", json={"partner_type": "senior"}, headers=turn)).status_code == 401

        admitted = asyncio.create_task(stream_turn(client, headers, {"partner_type": "senior"}))
        await asyncio.to_thread(fake_gemini.wait_for, "in_flight", 1)
        before = rejected(server.app.state.admission.service)
        # Full: the same requests are refused by the gate first: no body parsed, no token read.
        unsigned = await client.post("/api/v2/chat", json={"partner_type": "senior"}, headers=turn)
        assert unsigned.status_code == 503, unsigned.text
        refused = await client.post("/api/v2/chat", content=b"{not json", headers=turn)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "2"
        assert refused.headers["x-request-id"], "the request middleware still wraps the refusal"
        body = refused.json()["error"]
        assert body["code"] == "server_busy"
        assert body["message"] == "ただいま混雑しています。少し待ってから、もう一度送信してください。"
        assert body["retry_after"] == 2
        assert rejected(server.app.state.admission.service) == before + 2
        # Routes that call no model are not gated: the conversation list still answers while full.
        listed = await client.get("/api/v2/chat/conversations", headers=headers)
        assert listed.status_code == 200, listed.text

        status, events, raw = await admitted
        assert status == 200, raw
        assert events[-1].name == "done"
        assert len(fake_gemini.requests(method="streamGenerateContent")) == 1
        # Capacity again: the gate lets requests through to body parsing and auth.
        assert (await client.post("/api/v2/chat", content=b"{not json", headers=turn)).status_code == 422
        assert (await client.post("/api/v2/chat", json={"partner_type": "senior"}, headers=turn)).status_code == 401
