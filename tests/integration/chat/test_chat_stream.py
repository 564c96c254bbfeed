"""The chat turn over real HTTP: streaming, persistence, idempotency, disconnects, resume, failures."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import redis

from tests.support.chat_server import ChatServer, parse_sse, stream_turn
from tests.support.fake_gemini import FakeGeminiControl
from workplace_roleplay.ports.cache_keys import stream_key

pytestmark = pytest.mark.integration


def turn_requests(fake: FakeGeminiControl, model: str = "chat-flash") -> list[dict[str, object]]:
    return [r for r in fake.requests(method="streamGenerateContent") if r["model"] == model]


async def open_chat(client: httpx.AsyncClient, headers: dict[str, str], **settings: str) -> str:
    status, events, raw = await stream_turn(client, headers, {"partner_type": "senior", **settings})
    assert status == 200, raw
    assert events[-1].name == "done", raw
    return str(events[0].data["conversation_id"])


async def test_a_streamed_turn_stores_both_messages(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="お疲れさまです。週末は何をしていましたか？", chunk_chars=3)
    user, headers = await server.sign_in()
    conversation_id = await open_chat(client, headers)
    line = "お疲れさまです！\n週末は  山に登りました。"
    status, events, raw = await stream_turn(
        client, headers, {"conversation_id": conversation_id, "message": line, "client_message_id": "m1"}
    )
    assert status == 200, raw
    names = [e.name for e in events]
    assert names[0] == "start"
    assert names.count("token") >= 3
    assert names[-2:] == ["analysis", "done"]
    assert all(e.id.startswith(str(events[0].data["turn_id"])) for e in events)
    done = events[-1].data
    assert done["status"] == "complete"
    assert done["model"] == "chat-flash"
    assert done["simple_mode"] is False
    assert done["usage"]["output_tokens"] > 0
    assert "".join(e.data["text"] for e in events if e.name == "token") == done["text"]

    detail = (await client.get(f"/api/v2/chat/conversations/{conversation_id}", headers=headers)).json()
    messages = detail["messages"]
    assert [m["role"] for m in messages] == ["counterpart", "learner", "counterpart"]
    assert messages[1]["text"] == line  # whitespace and newlines kept exactly
    assert messages[1]["id"] == done["learner_message_id"]
    assert messages[2]["id"] == done["reply_message_id"]
    assert messages[2]["status"] == "complete"
    assert messages[1]["analysis"]["model"] == "coach-model"
    # The learner's line reached the model unchanged, inside the prompt of the counterpart.
    sent = turn_requests(fake_gemini)[-1]["body"]
    assert isinstance(sent, dict)
    assert any(p.get("text") == line for c in sent["contents"] for p in c["parts"])
    assert "鈴木先輩" in json.dumps(sent["systemInstruction"], ensure_ascii=False)
    # Message text is encrypted at rest (ALE): the stored document holds no plaintext.
    raw_doc = await server.resources.store.get(
        f"users/{user}/conversations/{conversation_id}/messages/{messages[1]['id']}"
    )
    assert raw_doc is not None
    assert line not in json.dumps(raw_doc, ensure_ascii=False)
    assert set(raw_doc["content"]) == {"kid", "ct"}
    # So is the coaching card (its better phrasing rewrites the learner's line) and the title (the
    # start of the learner's first line); the API still shows both.
    better = messages[1]["analysis"]["better_phrasing"]
    assert better
    assert set(raw_doc["analysis"]) == {"kid", "ct"}
    assert better not in json.dumps(raw_doc, ensure_ascii=False)
    assert detail["conversation"]["title"] == "お疲れさまです！ 週末は  山に登りました。"
    raw_conversation = await server.resources.store.get(f"users/{user}/conversations/{conversation_id}")
    assert raw_conversation is not None
    assert set(raw_conversation["title"]) == {"kid", "ct"}
    assert "お疲れさまです" not in json.dumps(raw_conversation, ensure_ascii=False)


async def test_duplicate_client_message_id_does_not_call_the_model_twice(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    _, headers = await server.sign_in()
    conversation_id = await open_chat(client, headers)
    body = {"conversation_id": conversation_id, "message": "こんにちは", "client_message_id": "dup-1"}
    first = await stream_turn(client, headers, body)
    calls = len(turn_requests(fake_gemini))
    second = await stream_turn(client, headers, body)
    as_json = await client.post("/api/v2/chat", json=body, headers={**headers, "Accept": "application/json"})
    assert len(turn_requests(fake_gemini)) == calls
    assert second[1][-1].data["replayed"] is True
    assert second[1][-1].data["reply_message_id"] == first[1][-1].data["reply_message_id"]
    assert as_json.status_code == 200
    assert as_json.json()["replayed"] is True
    assert as_json.json()["text"] == first[1][-1].data["text"]
    detail = (await client.get(f"/api/v2/chat/conversations/{conversation_id}", headers=headers)).json()
    assert len(detail["messages"]) == 3


async def test_disconnect_mid_stream_stores_a_partial_reply_and_cancels_the_model(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    _, headers = await server.sign_in()
    conversation_id = await open_chat(client, headers)
    fake_gemini.configure(text="あいうえおかきくけこさしすせそたちつてと" * 3, chunk_chars=2, chunk_delay_ms=150)
    body = {"conversation_id": conversation_id, "message": "長い話を聞かせてください", "client_message_id": "cut"}
    got = ""
    async with client.stream(
        "POST", "/api/v2/chat", json=body, headers={**headers, "Accept": "text/event-stream"}
    ) as r:
        assert r.status_code == 200
        async for chunk in r.aiter_text():
            got += chunk
            if got.count("event: token") >= 2:
                break
    # The server shares this event loop: wait in a thread so it can notice the disconnect meanwhile.
    stats = await asyncio.to_thread(fake_gemini.wait_for, "disconnects", 1, timeout_s=5.0)
    assert stats["disconnects"] >= 1  # the upstream model call was cancelled too
    reply = None
    for _ in range(100):
        detail = (await client.get(f"/api/v2/chat/conversations/{conversation_id}", headers=headers)).json()
        reply = detail["messages"][-1]
        if reply["role"] == "counterpart" and reply["status"] != "complete":
            break
        await asyncio.sleep(0.05)
    assert reply is not None
    assert reply["status"] == "partial"
    assert reply["text"].startswith("あいうえ")
    assert len(reply["text"]) < 60
    # Reconnecting with the last id seen replays the rest of the buffer, closed by a partial `done`.
    seen = [e for e in parse_sse(got.rsplit("\n\n", 1)[0] + "\n\n") if e.id]
    status, resumed, raw = await stream_turn(client, headers, body, **{"Last-Event-ID": seen[-1].id})
    assert status == 200, raw
    assert resumed[-1].name == "done"
    assert resumed[-1].data["status"] == "partial"
    assert resumed[-1].data["interrupted"] is True
    assert resumed[-1].data["text"] == reply["text"]
    # The conversation stays usable.
    fake_gemini.configure(text="続きはまた今度。", chunk_delay_ms=0)
    status, events, raw = await stream_turn(
        client, headers, {"conversation_id": conversation_id, "message": "ありがとう", "client_message_id": "next"}
    )
    assert status == 200, raw
    assert events[-1].data["status"] == "complete"


async def test_last_event_id_replays_what_the_client_missed(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="一二三四五六七八九十", chunk_chars=2)
    _, headers = await server.sign_in()
    conversation_id = await open_chat(client, headers)
    body = {"conversation_id": conversation_id, "message": "数えてください", "client_message_id": "count"}
    _, events, _ = await stream_turn(client, headers, body)
    calls = len(turn_requests(fake_gemini))
    status, resumed, raw = await stream_turn(client, headers, body, **{"Last-Event-ID": events[2].id})
    assert status == 200, raw
    assert [e.id for e in resumed] == [e.id for e in events[3:]]
    assert resumed[-1].name == "done"
    # EventSource-style GET reconnection works too, and a stranger gets nothing.
    turn_id = events[0].data["turn_id"]
    got = await client.get(f"/api/v2/chat/streams/{turn_id}", headers={**headers, "Last-Event-ID": events[-2].id})
    assert [e.id for e in parse_sse(got.text)] == [events[-1].id]
    _, stranger = await server.sign_in()
    assert (await client.get(f"/api/v2/chat/streams/{turn_id}", headers=stranger)).status_code == 404
    assert len(turn_requests(fake_gemini)) == calls


async def test_model_failure_mid_stream_is_an_error_event_and_the_conversation_stays_usable(
    server: ChatServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    _, headers = await server.sign_in()
    conversation_id = await open_chat(client, headers)
    fake_gemini.configure(text="ただいま確認しておりますので少々お待ちください", chunk_chars=3)
    fake_gemini.script("chat-flash", {"kind": "break", "after_chunks": 2})
    status, events, raw = await stream_turn(
        client, headers, {"conversation_id": conversation_id, "message": "進捗はどうですか", "client_message_id": "f1"}
    )
    assert status == 200, raw
    error = events[-1]
    assert error.name == "error", raw
    assert error.data["message"]  # Japanese, for the learner
    assert error.data["partial_text"] == "ただいま確認"
    detail = (await client.get(f"/api/v2/chat/conversations/{conversation_id}", headers=headers)).json()
    assert detail["messages"][-1]["status"] == "partial"
    status, events, raw = await stream_turn(
        client, headers, {"conversation_id": conversation_id, "message": "了解です", "client_message_id": "f2"}
    )
    assert status == 200, raw
    assert events[-1].name == "done"


async def test_the_replay_buffer_in_redis_holds_no_plaintext_and_a_tampered_entry_ends_the_resume(
    server: ChatServer,
    client: httpx.AsyncClient,
    fake_gemini: FakeGeminiControl,
    redis_url: str,
    redis_namespace: str,
) -> None:
    reply = "承知しました。明日の朝一番に部長へ報告します。"
    fake_gemini.configure(text=reply, chunk_chars=4)
    user, headers = await server.sign_in()
    conversation_id = await open_chat(client, headers)
    line = "資料の数字を間違えてしまいました"
    body = {"conversation_id": conversation_id, "message": line, "client_message_id": "sealed"}
    status, events, raw = await stream_turn(client, headers, body)
    assert status == 200, raw
    analysis = next(e for e in events if e.name == "analysis").data
    turn_id = str(events[0].data["turn_id"])
    raw_redis = redis.Redis.from_url(redis_url)
    key = redis_namespace + stream_key(turn_id)
    try:
        items: list[bytes] = raw_redis.lrange(key, 0, -1)  # type: ignore[assignment]
        assert len(items) == len(events) + 1  # the owner line, then one entry per event
        dump = b"".join(items).decode()
        assert json.loads(items[0]) == {"owner": user}
        for secret in (reply[:4], reply[4:8], "部長", line[:4], str(analysis["better_phrasing"])[:6]):
            assert secret not in dump
        assert all(set(json.loads(item)) == {"kid", "ct"} for item in items[1:])
        # Resume still opens them.
        status, resumed, raw = await stream_turn(client, headers, body, **{"Last-Event-ID": events[1].id})
        assert status == 200, raw
        assert [(e.id, e.data) for e in resumed] == [(e.id, e.data) for e in events[2:]]
        # A tampered entry: the resume still answers 200, replays what opens, then the Japanese error event.
        tampered = json.loads(items[4])
        tampered["ct"] = tampered["ct"][:20] + ("A" if tampered["ct"][20] != "A" else "B") + tampered["ct"][21:]
        raw_redis.lset(key, 4, json.dumps(tampered))
        got = await client.get(f"/api/v2/chat/streams/{turn_id}", headers={**headers, "Last-Event-ID": events[1].id})
        assert got.status_code == 200
        after = parse_sse(got.text)
        assert [e.id for e in after[:-1]] == [events[2].id]
        assert after[-1].name == "error"
        assert after[-1].data == {
            "code": "stream_unreadable",
            "message": "接続が切れました。会話を再読み込みしてください。",
        }
    finally:
        raw_redis.close()
