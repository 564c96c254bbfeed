"""Stored summaries and reports are read back without a model call and leave with their conversation."""

from __future__ import annotations

import json

import httpx
import pytest
import redis

from tests.support.chat_server import ChatServer
from tests.support.fake_gemini import FakeGeminiControl
from workplace_roleplay.ports.cache_keys import stream_key

pytestmark = pytest.mark.integration

LINES = ("お疲れさまです！週末はキャンプに行きました。", "先輩は週末どうでしたか？")


def model_calls(fake: FakeGeminiControl) -> int:
    return len(fake.requests(method="generateContent")) + len(fake.requests(method="streamGenerateContent"))


async def test_reports_are_read_back_and_deleted_with_the_conversation(
    server: ChatServer,
    client: httpx.AsyncClient,
    fake_gemini: FakeGeminiControl,
    redis_url: str,
    redis_namespace: str,
) -> None:
    user, headers = await server.sign_in()
    _, intruder = await server.sign_in()
    json_headers = {**headers, "Accept": "application/json"}
    opened = await client.post("/api/v2/chat", json={"partner_type": "senior"}, headers=json_headers)
    cid = opened.json()["conversation_id"]
    turn_ids = []
    for index, line in enumerate(LINES):
        body = {"conversation_id": cid, "message": line, "client_message_id": f"m{index}"}
        said = await client.post("/api/v2/chat", json=body, headers=json_headers)
        assert said.status_code == 200, said.text
        turn_ids.append(said.json()["turn_id"])
    base = f"/api/v2/chat/conversations/{cid}"
    none_yet = await client.get(f"{base}/feedback", headers=headers)
    assert none_yet.status_code == 404
    assert none_yet.json()["error"]["code"] == "report_not_found"
    assert (await client.get(f"{base}/summary", headers=headers)).status_code == 404

    checks = [{"id": "L1", "passed": True, "evidence": LINES[1]}]
    draft = {
        "checks": checks,
        "strengths": ["質問を返せた"],
        "growth_points": ["感想を添える"],
        "tomorrow_action": "挨拶",
    }
    fake_gemini.script("grader-model", {"kind": "ok", "text": json.dumps(draft, ensure_ascii=False)})
    summary = {"summary": "週末の話をした", "key_points": ["キャンプ"], "learning_points": ["質問を返せた"]}
    fake_gemini.script("summary-model", {"kind": "ok", "text": json.dumps(summary, ensure_ascii=False)})
    made_report = (await client.post(f"{base}/feedback", headers=headers)).json()
    made_summary = (await client.post(f"{base}/summary", headers=headers)).json()
    calls = model_calls(fake_gemini)

    report = await client.get(f"{base}/feedback", headers=headers)
    read_summary = await client.get(f"{base}/summary", headers=headers)
    assert report.status_code == 200, report.text
    assert report.json()["report_id"] == made_report["report_id"]
    assert report.json()["scores"] == made_report["scores"]
    assert read_summary.json()["summary"] == made_summary["summary"] == "週末の話をした"
    assert model_calls(fake_gemini) == calls  # read back, never generated again
    assert (await client.get(f"{base}/feedback", headers=intruder)).status_code == 404

    raw_redis = redis.Redis.from_url(redis_url)
    assert raw_redis.keys(f"{redis_namespace}ai_cache:*")
    assert all(raw_redis.exists(redis_namespace + stream_key(t)) for t in turn_ids)
    store = server.resources.store
    report_path = f"users/{user}/reports/{made_report['report_id']}"
    assert await store.get(report_path) is not None

    assert (await client.delete(base, headers=headers)).status_code == 204
    assert await store.get(report_path) is None
    assert await store.query(f"users/{user}/conversations/{cid}/messages") == []
    assert await store.get(f"users/{user}/conversations/{cid}") is None
    assert raw_redis.keys(f"{redis_namespace}ai_cache:*") == []
    assert not any(raw_redis.exists(redis_namespace + stream_key(t)) for t in turn_ids)
    assert (await client.get(f"{base}/feedback", headers=headers)).status_code == 404
