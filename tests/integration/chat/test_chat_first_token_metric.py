"""The learner-visible time to first token is exported from /metrics for the chat stream route."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.chat.test_chat_stream import open_chat
from tests.support.chat_server import ChatServer, stream_turn
from tests.support.fake_gemini import FakeGeminiControl

pytestmark = pytest.mark.integration

ROUTE = "/api/v2/chat"


async def _scrape(client: httpx.AsyncClient, name: str, labels: dict[str, str]) -> dict[str, float]:
    """``{suffix: value}`` of one histogram's _count and _sum samples with exactly these labels."""
    text = (await client.get("/metrics")).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            if all(sample.labels.get(k) == v for k, v in labels.items()) and sample.name.endswith(("_count", "_sum")):
                found[sample.name.rsplit("_", 1)[1]] = sample.value
    return found


async def test_the_wait_for_the_first_token_is_observed_per_route_and_includes_more_than_the_model(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    # The upstream first chunk takes 0.3 s; the learner's wait must include it and everything before it.
    fake_gemini.configure(text="お疲れさまです。今日はどうでしたか？", chunk_chars=4, ttft_ms=300)
    _, headers = await server.sign_in()
    labels = {"service": "chat", "route": ROUTE}
    before = await _scrape(client, "stream_first_token_seconds", labels)
    model_before = await _scrape(client, "model_time_to_first_token_seconds", {"model": "chat-flash"})
    conversation_id = await open_chat(client, headers)
    status, events, raw = await stream_turn(
        client, headers, {"conversation_id": conversation_id, "message": "はい、元気です。", "client_message_id": "m1"}
    )
    assert status == 200, raw
    assert [e.name for e in events].count("token") >= 2

    after = await _scrape(client, "stream_first_token_seconds", labels)
    model_after = await _scrape(client, "model_time_to_first_token_seconds", {"model": "chat-flash"})
    # Two streams with text (the opening line and the turn), one observation each, not one per token.
    observed = after["count"] - before.get("count", 0.0)
    assert observed == 2
    waited = after["sum"] - before.get("sum", 0.0)
    upstream = model_after["sum"] - model_before.get("sum", 0.0)
    assert model_after["count"] - model_before.get("count", 0.0) == 2
    assert upstream >= 2 * 0.3
    # The learner waited for the model and for our own work before it (store, prompt, moderation).
    assert waited > upstream
    assert waited < 2 * 5.0, "far below the alert threshold on a healthy local stack"


async def test_a_turn_answered_by_the_fallback_counts_though_the_model_sent_nothing(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    """When Gemini refuses, the learner still waits for (simple-mode) text: only this metric sees that wait."""
    _, headers = await server.sign_in()
    conversation_id = await open_chat(client, headers)
    labels = {"service": "chat", "route": ROUTE}
    before = await _scrape(client, "stream_first_token_seconds", labels)
    model_before = {
        m: await _scrape(client, "model_time_to_first_token_seconds", {"model": m}) for m in ("chat-flash", "chat-pro")
    }
    fake_gemini.script("chat-flash", {"kind": "status", "status": 400, "times": -1})
    fake_gemini.script("chat-pro", {"kind": "status", "status": 400, "times": -1})
    status, events, raw = await stream_turn(
        client, headers, {"conversation_id": conversation_id, "message": "もしもし", "client_message_id": "m2"}
    )
    assert status == 200, raw
    assert events[-1].data["simple_mode"] is True
    after = await _scrape(client, "stream_first_token_seconds", labels)
    assert after["count"] - before.get("count", 0.0) == 1
    for model, counts in model_before.items():
        now = await _scrape(client, "model_time_to_first_token_seconds", {"model": model})
        assert now.get("count", 0.0) == counts.get("count", 0.0), f"{model} never sent a first token"
