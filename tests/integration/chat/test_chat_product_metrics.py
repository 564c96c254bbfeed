"""Every product metric moves when its action happens, read from ``/metrics`` over HTTP, and 👍/👎 round-trips
(stored sealed on the rated document, read back, counted per mode, scenario and model)."""

from __future__ import annotations

import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.chat_server import ChatServer
from tests.support.fake_gemini import FakeGeminiControl

pytestmark = pytest.mark.integration

REASON = "例え話がわかりやすかった"


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = (await client.get("/metrics")).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def moved(before: dict, after: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    key = (name, frozenset(labels.items()))
    return float(after.get(key, 0.0)) - float(before.get(key, 0.0))


async def test_each_product_metric_moves_with_its_action(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    user, headers = await server.sign_in()
    json_headers = {**headers, "Accept": "application/json"}
    chat = {"mode": "chat", "category": "none"}
    start = await scrape(client)

    opened = await client.post("/api/v2/chat", json={"partner_type": "senior"}, headers=json_headers)
    assert opened.status_code == 200, opened.text
    cid = opened.json()["conversation_id"]
    said = await client.post(
        "/api/v2/chat",
        json={"conversation_id": cid, "message": "お疲れさまです。週末はキャンプでした。", "client_message_id": "m1"},
        headers=json_headers,
    )
    assert said.status_code == 200, said.text
    reply_id = said.json()["reply_message_id"]
    after_turns = await scrape(client)
    assert moved(start, after_turns, "product_sessions_started_total", **chat) == 1
    assert moved(start, after_turns, "product_turns_total", **chat, reply="model") == 2  # the opening and the reply

    base = f"/api/v2/chat/conversations/{cid}"
    summary = {"summary": "週末の話", "key_points": ["キャンプ"], "learning_points": ["挨拶"]}
    fake_gemini.script("summary-model", {"kind": "ok", "text": json.dumps(summary, ensure_ascii=False)})
    assert (await client.post(f"{base}/summary", headers=headers)).status_code == 200
    draft = {"checks": [], "strengths": ["挨拶"], "growth_points": ["質問"], "tomorrow_action": "挨拶"}
    fake_gemini.script("grader-model", {"kind": "ok", "text": json.dumps(draft, ensure_ascii=False)})
    report = await client.post(f"{base}/feedback", headers=headers)
    assert report.status_code == 200, report.text
    again = await client.post(f"{base}/feedback", headers=headers)  # cached: asked again, not completed again
    assert again.json()["cached"] is True
    after_reports = await scrape(client)
    assert moved(after_turns, after_reports, "product_reports_requested_total", mode="chat", kind="summary") == 1
    assert moved(after_turns, after_reports, "product_reports_requested_total", mode="chat", kind="feedback") == 2
    assert moved(after_turns, after_reports, "product_sessions_completed_total", **chat) == 1
    assert moved(after_turns, after_reports, "product_session_turns_count", mode="chat") == 1
    assert moved(after_turns, after_reports, "product_session_turns_sum", mode="chat") == 1  # one learner turn

    up = await client.post(
        f"{base}/messages/{reply_id}/rating", json={"value": "up", "reason": REASON}, headers=headers
    )
    assert up.status_code == 200, up.text
    report_id = report.json()["report_id"]
    down = await client.post(f"{base}/reports/{report_id}/rating", json={"value": "down"}, headers=headers)
    assert down.status_code == 200, down.text
    after_ratings = await scrape(client)
    model = said.json()["model"]
    rated = {"mode": "chat", "category": "none", "scenario": "none"}
    assert (
        moved(after_reports, after_ratings, "product_ratings_total", **rated, model=model, target="reply", value="up")
        == 1
    )
    report_model = report.json()["model"]
    assert (
        moved(
            after_reports,
            after_ratings,
            "product_ratings_total",
            **rated,
            model=report_model,
            target="report",
            value="down",
        )
        == 1
    )

    # Round trip: read back with the reason; stored sealed on the message itself.
    listed = (await client.get(f"{base}/ratings", headers=headers)).json()["ratings"]
    assert [(r["target"], r["target_id"], r["value"], r["reason"]) for r in listed] == [
        ("reply", reply_id, "up", REASON),
        ("report", report_id, "down", ""),
    ]
    stored = await server.resources.store.get(f"users/{user}/conversations/{cid}/messages/{reply_id}")
    assert stored is not None
    assert stored["rating"]["value"] == "up"
    assert REASON not in json.dumps(stored, ensure_ascii=False)

    # Learner-visible errors per route: rating the learner's own line is refused (404), and counted.
    own = f"{base}/messages/{said.json()['turn_id']}-l/rating"
    refused = await client.post(own, json={"value": "down"}, headers=headers)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "message_not_found"
    bad = await client.post(f"{base}/messages/{reply_id}/rating", json={"value": "meh"}, headers=headers)
    assert bad.status_code == 422
    end = await scrape(client)
    route = "/api/v2/chat/conversations/{conversation_id}/messages/{message_id}/rating"
    assert moved(after_ratings, end, "learner_errors_total", service="chat", route=route, code="message_not_found") == 1
    assert moved(after_ratings, end, "learner_errors_total", service="chat", route=route, code="invalid_input") == 1


async def test_simple_response_share_counts_simple_replies(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    _, headers = await server.sign_in()
    json_headers = {**headers, "Accept": "application/json"}
    before = await scrape(client)
    fake_gemini.script("chat-flash", {"kind": "status", "status": 400, "times": -1})
    fake_gemini.script("chat-pro", {"kind": "status", "status": 400, "times": -1})
    opened = await client.post("/api/v2/chat", json={}, headers=json_headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["simple_mode"] is True
    after = await scrape(client)
    assert moved(before, after, "product_turns_total", mode="chat", category="none", reply="simple") == 1
    assert moved(before, after, "product_turns_total", mode="chat", category="none", reply="model") == 0
