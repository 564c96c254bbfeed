"""The rest of the chat API over real HTTP: moderation, limits, ownership, context, memory, reports."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import redis

from tests.integration.chat.conftest import StartServer
from tests.support.chat_server import ChatServer
from tests.support.fake_gemini import FakeGeminiControl

pytestmark = pytest.mark.integration


def system_prompts(fake: FakeGeminiControl, model: str = "chat-flash") -> list[str]:
    rows = [r for r in fake.requests(method="streamGenerateContent") if r["model"] == model]
    return [json.dumps(r["body"].get("systemInstruction", {}), ensure_ascii=False) for r in rows]


async def say(
    client: httpx.AsyncClient, headers: dict[str, str], conversation_id: str, text: str, cmid: str
) -> tuple[int, Any]:
    response = await client.post(
        "/api/v2/chat",
        json={"conversation_id": conversation_id, "message": text, "client_message_id": cmid},
        headers={**headers, "Accept": "application/json"},
    )
    return response.status_code, response.json()


async def open_chat(client: httpx.AsyncClient, headers: dict[str, str], **settings: Any) -> str:
    response = await client.post("/api/v2/chat", json=settings, headers={**headers, "Accept": "application/json"})
    assert response.status_code == 200, response.text
    return str(response.json()["conversation_id"])


async def test_moderation_blocks_ng_words_and_loops_with_japanese_reasons(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    _, headers = await server.sign_in()
    cid = await open_chat(client, headers)
    calls = len(system_prompts(fake_gemini))
    status, body = await say(client, headers, cid, "お前はバカだな", "ng")
    assert status == 422
    assert body["error"]["code"] == "message_blocked"
    assert "不適切" in body["error"]["message"]
    assert len(system_prompts(fake_gemini)) == calls  # nothing harmful reached the model
    for index in range(2):
        status, _ = await say(client, headers, cid, "はい", f"loop{index}")
        assert status == 200
    status, body = await say(client, headers, cid, "はい", "loop2")
    assert status == 422
    assert body["error"]["code"] == "repeated_message"
    detail = (await client.get(f"/api/v2/chat/conversations/{cid}", headers=headers)).json()
    assert [m["text"] for m in detail["messages"] if m["role"] == "learner"] == ["はい", "はい"]


async def test_off_topic_lines_are_nudged_not_blocked(server: ChatServer, client: httpx.AsyncClient) -> None:
    _, headers = await server.sign_in()
    cid = await open_chat(client, headers, topic="food")
    status, body = await say(client, headers, cid, "来月の資格試験に向けて毎晩勉強しています", "o1")
    assert status == 200
    assert "話題" in body["nudge"]


async def test_input_limits_are_explicit(start_server: StartServer) -> None:
    server = await start_server(MAX_MESSAGE_CHARS=50, MAX_REQUEST_BYTES=4096)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await open_chat(client, headers)
        status, body = await say(client, headers, cid, "あ" * 51, "long")
        assert status == 422
        assert body["error"]["code"] == "message_too_long"
        status, body = await say(client, headers, cid, " \n ", "blank")
        assert body["error"]["code"] == "empty_message"
        huge = await client.post(
            "/api/v2/chat",
            json={"conversation_id": cid, "message": "あ" * 5000, "client_message_id": "x"},
            headers=headers,
        )
        assert huge.status_code == 413
        no_id = await client.post("/api/v2/chat", json={"conversation_id": cid, "message": "やあ"}, headers=headers)
        assert no_id.status_code == 422
        unknown = await client.post("/api/v2/chat", json={"partner_type": "alien"}, headers=headers)
        assert unknown.status_code == 422


async def test_another_learners_conversation_is_404_never_data(server: ChatServer, client: httpx.AsyncClient) -> None:
    _, owner = await server.sign_in()
    _, intruder = await server.sign_in()
    cid = await open_chat(client, owner)
    await say(client, owner, cid, "秘密の話です", "s1")
    for method, path, body in (
        ("GET", f"/api/v2/chat/conversations/{cid}", None),
        ("DELETE", f"/api/v2/chat/conversations/{cid}", None),
        ("POST", f"/api/v2/chat/conversations/{cid}/summary", None),
        ("POST", f"/api/v2/chat/conversations/{cid}/feedback", None),
        ("POST", "/api/v2/chat", {"conversation_id": cid, "message": "見せて", "client_message_id": "z"}),
    ):
        response = await client.request(method, path, json=body, headers={**intruder, "Accept": "application/json"})
        assert response.status_code == 404, (method, path, response.text)
        assert "秘密" not in response.text
    listing = (await client.get("/api/v2/chat/conversations", headers=intruder)).json()
    assert listing["items"] == []
    assert (await client.get("/api/v2/chat/conversations", headers={})).status_code == 401


async def test_list_page_and_delete_conversations(server: ChatServer, client: httpx.AsyncClient) -> None:
    _, headers = await server.sign_in()
    ids = [await open_chat(client, headers, topic=topic) for topic in ("food", "hobby", "work")]
    first = (await client.get("/api/v2/chat/conversations?limit=2", headers=headers)).json()
    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    assert first["next_offset"] == 2
    rest = (await client.get("/api/v2/chat/conversations?limit=2&offset=2", headers=headers)).json()
    assert [c["id"] for c in rest["items"]] == [ids[0]]
    assert rest["next_offset"] is None
    assert (await client.delete(f"/api/v2/chat/conversations/{ids[0]}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/v2/chat/conversations/{ids[0]}", headers=headers)).status_code == 404


async def test_rolling_summary_kicks_in_past_the_budget(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    server = await start_server(CONTEXT_TOKENS=80, MEMORY_EVERY_TURNS=0)
    fake_gemini.configure(text="そうなんですね。", chunk_chars=8)
    fake_gemini.script("summary-model", {"kind": "ok", "text": "要約: 学習者は週末に高尾山へ登った。", "times": -1})
    user, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await open_chat(client, headers)
        lines = [
            "週末に高尾山に登ってきました",
            "朝早く出発して頂上でお弁当を食べました",
            "帰りは温泉に寄りました",
            "来月も行く予定です",
        ]
        for index, line in enumerate(lines):
            status, body = await say(client, headers, cid, line, f"r{index}")
            assert status == 200, body
        for _ in range(100):
            conv = await server.chat.conversation(user, cid)
            if conv.rolling_summary:
                break
            await asyncio.sleep(0.05)
        assert conv.rolling_summary == "要約: 学習者は週末に高尾山へ登った。"
        await say(client, headers, cid, "おすすめの山はありますか", "r9")
    last = [r for r in fake_gemini.requests(method="streamGenerateContent") if r["model"] == "chat-flash"][-1]
    assert "要約: 学習者は週末に高尾山へ登った。" in json.dumps(last["body"]["systemInstruction"], ensure_ascii=False)
    sent = [p["text"] for c in last["body"]["contents"] for p in c["parts"]]
    assert lines[0] not in sent  # the oldest line now lives only in the summary


async def test_memories_are_extracted_recalled_listed_and_deleted(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    server = await start_server(MEMORY_EVERY_TURNS=1)
    facts = {"facts": [{"text": "学習者はキャンプが趣味で、よく山梨に行く", "kind": "preference", "salience": 0.9}]}
    fake_gemini.script("memory-model", {"kind": "ok", "text": json.dumps(facts, ensure_ascii=False)})
    user, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await open_chat(client, headers, topic="hobby")
        await say(client, headers, cid, "趣味はキャンプで、よく山梨に行きます", "k1")
        memories: list[dict[str, Any]] = []
        for _ in range(100):
            memories = (await client.get("/api/v2/chat/memories", headers=headers)).json()["items"]
            if memories:
                break
            await asyncio.sleep(0.05)
        assert [m["text"] for m in memories] == ["学習者はキャンプが趣味で、よく山梨に行く"]
        stored = await server.resources.store.get(f"users/{user}/memories/{memories[0]['id']}")
        assert stored is not None
        assert set(stored["text"]) == {"kid", "ct"}  # encrypted at rest
        before = len(system_prompts(fake_gemini))
        other = await open_chat(client, headers, topic="hobby")
        await say(client, headers, other, "今度の休みもキャンプに行く予定です", "k2")
        prompts = system_prompts(fake_gemini)
        assert len(prompts) > before
        assert "学習者はキャンプが趣味で、よく山梨に行く" in prompts[-1]
        assert "学習者はキャンプが趣味" not in prompts[0]
        deleted = await client.delete(f"/api/v2/chat/memories/{memories[0]['id']}", headers=headers)
        assert deleted.status_code == 204
        left = (await client.get("/api/v2/chat/memories", headers=headers)).json()["items"]
        assert memories[0]["id"] not in [m["id"] for m in left]


async def test_summary_and_feedback_reports_are_evidence_based_and_cached(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl, redis_url: str, redis_namespace: str
) -> None:
    user, headers = await server.sign_in()
    cid = await open_chat(client, headers, partner_type="senior")
    await say(client, headers, cid, "お疲れさまです！週末はキャンプに行きました。", "a")
    await say(client, headers, cid, "先輩は週末どうでしたか？", "b")
    checks = [
        {"id": i, "passed": False, "evidence": ""} for i in ("E1", "E2", "C1", "C2", "A1", "A2", "P1", "P2", "R2")
    ]
    checks += [
        {"id": "R1", "passed": True, "evidence": "お疲れさまです！"},
        {"id": "L1", "passed": True, "evidence": "先輩は週末どうでしたか？"},
        {"id": "L2", "passed": True, "evidence": "まったく言っていない引用"},
    ]
    draft = {
        "checks": checks,
        "strengths": ["挨拶ができた", "質問を返せた"],
        "growth_points": ["感想を添える", "具体的に話す"],
        "tomorrow_action": "朝の挨拶にひと言添える",
    }
    fake_gemini.script("grader-model", {"kind": "ok", "text": json.dumps(draft, ensure_ascii=False)})
    summary = {"summary": "週末の話をした", "key_points": ["キャンプ"], "learning_points": ["質問を返せた"]}
    fake_gemini.script("summary-model", {"kind": "ok", "text": json.dumps(summary, ensure_ascii=False)})
    report = (await client.post(f"/api/v2/chat/conversations/{cid}/feedback", headers=headers)).json()
    assert report["scores"]["active_listening"] == 50  # L2's "quote" is not the learner's: not counted
    assert report["scores"]["professionalism"] == 50
    assert report["scores"]["empathy"] == 0
    assert report["tomorrow_action"] == "朝の挨拶にひと言添える"
    assert report["simple_mode"] is False
    again = (await client.post(f"/api/v2/chat/conversations/{cid}/feedback", headers=headers)).json()
    assert again["cached"] is True
    assert again["scores"] == report["scores"]
    graded = [r for r in fake_gemini.requests(method="generateContent") if r["model"] == "grader-model"]
    assert len(graded) == 1
    assert graded[0]["body"]["generationConfig"]["temperature"] == 0.0
    stored = await server.resources.store.get(f"users/{user}/reports/{report['report_id']}")
    assert stored is not None
    assert stored["scores"] == report["scores"]
    assert set(stored["report"]) == {"kid", "ct"}
    got = (await client.post(f"/api/v2/chat/conversations/{cid}/summary", headers=headers)).json()
    assert got["summary"] == "週末の話をした"
    assert got["cached"] is False
    # The cached reports in Redis are sealed: no quoted line of the learner in any ai_cache value.
    raw_redis = redis.Redis.from_url(redis_url)
    keys = list(raw_redis.scan_iter(match=f"{redis_namespace}ai_cache:*"))
    assert len(keys) == 2, keys  # this conversation's summary and report, nothing from the gateway
    for key in keys:
        value = raw_redis.get(key)
        assert isinstance(value, bytes)
        raw = value.decode()
        assert "先輩は週末どうでしたか" not in raw
        assert "週末の話をした" not in raw
        assert set(json.loads(raw)) == {"kid", "ct"}


async def test_model_calls_are_rate_limited_per_learner(start_server: StartServer) -> None:
    server = await start_server(RATE_LIMIT_MODEL_USER="2/60")
    _, headers = await server.sign_in()
    _, other = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await open_chat(client, headers)
        status, _ = await say(client, headers, cid, "こんにちは", "r1")
        assert status == 200
        status, body = await say(client, headers, cid, "元気ですか", "r2")
        assert status == 429
        assert body["error"]["code"] == "rate_limited"
        assert body["error"]["message"]  # Japanese, shown on the page
        limited = await client.post("/api/v2/chat", json={}, headers={**headers, "Accept": "application/json"})
        assert int(limited.headers["Retry-After"]) >= 1
        assert (
            await client.post("/api/v2/chat", json={}, headers={**other, "Accept": "application/json"})
        ).status_code == 200
