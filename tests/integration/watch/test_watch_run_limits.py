"""Over real HTTP and a real WebSocket (fake Gemini, real Redis, Firestore emulator): an HTTP ``next`` racing a
socket ``play`` speaks and logs every line exactly once; 終了する ends a run for good; a client that stops reading
is closed with 1013 without holding up the run; the learner's daily model budget; quiz accuracy for the progress
page."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any

import httpx
import pytest

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.watch_server import PREFIX, WatchServer, next_line, post_stream, start_run
from tests.support.watch_socket import StalledClient, nth_line_done, read_until, send, socket, state_is, stored_lines

pytestmark = pytest.mark.integration

FAST = {"WATCH_LINE_PAUSE_S": 0.05, "WATCH_QUIZ_EVERY": 0}


async def test_an_http_next_racing_a_socket_play_logs_each_line_exactly_once(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    server: WatchServer = await start_server(**FAST, WATCH_LINE_BUDGET=12)
    fake_gemini.configure(text="では、来週の会議までに資料をまとめておきますね。", chunk_chars=3, chunk_delay_ms=60)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        cid = await start_run(client, headers)
        async with socket(server, cid, headers) as ws:
            first = asyncio.create_task(post_stream(client, f"/conversations/{cid}/next", headers))
            await asyncio.sleep(0.2)  # the HTTP line is being spoken (about 0.5 s) when play arrives
            await send(ws, type="play")
            frames = await read_until(ws, state_is("playing"))
            racing = await asyncio.gather(
                *(post_stream(client, f"/conversations/{cid}/next", headers) for _ in range(2))
            )
            status, events, raw = await first
            http_line = next(e.data for e in events if e.name == "line")
            # Once the driver speaks, a plain next is refused rather than speaking (or logging) a line twice.
            frames += await read_until(
                ws, lambda f: f["event"] == "line" and f["data"]["message_id"] != http_line["message_id"]
            )
            status_mid, _, raw_mid = await post_stream(client, f"/conversations/{cid}/next", headers)
            frames += await read_until(ws, state_is("budget"), timeout_s=30)
        stored = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()["messages"]
    assert status == 200, raw
    assert status_mid == 409, raw_mid
    assert json.loads(raw_mid)["error"]["code"] == "watch_busy"
    assert "少し待って" in json.loads(raw_mid)["error"]["message"]
    assert len(stored) == 12
    started = [f["data"]["message_id"] for f in frames if f["event"] == "line"]
    assert started == [m["id"] for m in stored]  # every stored line once in the log, in order, none twice
    done = [f for f in frames if f["event"] == "line_done"]
    assert [(f["data"]["speaker"], f["data"]["text"]) for f in done] == [(m["speaker"], m["text"]) for m in stored]
    ids = [int(f["id"]) for f in frames if f.get("id")]
    assert ids == sorted(set(ids))
    # The HTTP line came first and is the logged one; nexts racing the play either spoke a line of their own
    # (logged once too) or were refused.
    assert started[0] == http_line["message_id"]
    for status, events, raw in racing:
        if status == 200:
            assert started.count(next(e.data for e in events if e.name == "line")["message_id"]) == 1
        else:
            assert status == 409, raw
            assert json.loads(raw)["error"]["code"] in ("watch_busy", "watch_paused"), raw


async def test_ending_a_run_stops_it_for_good_over_the_socket_and_http(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    server: WatchServer = await start_server(**FAST, WATCH_LINE_BUDGET=50)
    fake_gemini.configure(text="はい、その方向で進めましょう。", chunk_chars=3, chunk_delay_ms=20)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        async with socket(server, cid, headers) as ws:
            await send(ws, type="play")
            await read_until(ws, lambda f: f["event"] == "line_done")
            await send(ws, type="end")
            ended = (await read_until(ws, state_is("ended")))[-1]["data"]
            assert ended["ended_at"] is not None
            await asyncio.sleep(0.6)  # the line being spoken finishes; nothing more is spoken
            spoken = len(await stored_lines(client, headers, cid))
            for kind in ("play", "step", "continue", "quiz", "takes"):
                await send(ws, type=kind)
                refused = await read_until(ws, lambda f: f["event"] == "error")
                assert refused[-1]["data"]["code"] == "watch_ended", kind
                assert "終了" in refused[-1]["data"]["message"]
            await send(ws, type="join", text="私も一言いいですか。", client_message_id="late")
            assert (await read_until(ws, lambda f: f["event"] == "error"))[-1]["data"]["code"] == "watch_ended"
            await asyncio.sleep(0.3)
        assert len(await stored_lines(client, headers, cid)) == spoken
        # Over HTTP: every way to make it speak is refused; reopening, accuracy and reports still work.
        status, _, raw = await post_stream(client, f"/conversations/{cid}/next", headers)
        assert status == 409
        assert json.loads(raw)["error"]["code"] == "watch_ended"
        for action in ("play", "resume", "continue"):
            control = await client.post(
                f"{PREFIX}/conversations/{cid}/control", json={"action": action}, headers=headers
            )
            assert control.status_code == 409
            assert control.json()["error"]["code"] == "watch_ended"
        assert (await client.post(f"{PREFIX}/conversations/{cid}/takes", headers=headers)).status_code == 409
        again = await client.post(f"{PREFIX}/conversations/{cid}/control", json={"action": "end"}, headers=headers)
        assert again.status_code == 200
        assert again.json()["ended_at"] == ended["ended_at"]
        reopened = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()
        assert reopened["run"]["run"]["state"] == "ended"
        assert len(reopened["messages"]) == spoken
        listed = (await client.get(f"{PREFIX}/conversations", headers=headers)).json()["items"]
        assert listed[0]["run"]["state"] == "ended"
        report = await client.post(f"{PREFIX}/conversations/{cid}/summary", headers=headers)
        assert report.status_code == 200, report.text
        assert report.json()["watch"]["quizzes"]["asked"] == 0
        # A run ended over HTTP is ended for the socket too.
        other = await start_run(client, headers)
        await next_line(client, headers, other)
        ended_http = await client.post(
            f"{PREFIX}/conversations/{other}/control", json={"action": "end"}, headers=headers
        )
        assert ended_http.json()["state"] == "ended"
        async with socket(server, other, headers) as ws:
            await send(ws, type="play")
            assert (await read_until(ws, lambda f: f["event"] == "error"))[-1]["data"]["code"] == "watch_ended"


async def test_a_client_that_stops_reading_is_closed_1013_and_does_not_hold_up_the_run(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    server: WatchServer = await start_server(
        send_buffer_bytes=8192,
        WATCH_LINE_PAUSE_S=0,
        WATCH_QUIZ_EVERY=0,
        WATCH_LINE_BUDGET=8,
        WATCH_SEND_QUEUE=16,
        WATCH_SOCKET_STALL_S=1.0,
    )
    fake_gemini.configure(text="あ" * 8000, chunk_chars=20)  # 400 token events per line, about 70 kB a line
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        slow = await asyncio.to_thread(StalledClient, server, cid, headers)  # blocking I/O off the event loop
        try:
            slow.send({"type": "play"})
            # The run goes on without the stalled client: all of its lines are spoken and stored.
            deadline = time.monotonic() + 60
            while len(await stored_lines(client, headers, cid)) < 8:
                assert time.monotonic() < deadline, "the run was held up by a client that does not read"
                await asyncio.sleep(0.2)
            received, close_code = await asyncio.to_thread(slow.frames)
        finally:
            slow.close()
        assert close_code == 1013
        last_id = max(int(f["id"]) for f in received if f.get("id"))
        total = 8 * 404  # per line: line, 400 tokens, line_done, state, done
        assert last_id < total // 2  # far behind when it was closed: the server did not buffer the whole run
        # It reconnects from its last id and misses nothing.
        async with socket(server, cid, headers, last_event_id=str(last_id)) as ws:
            rest = await read_until(ws, state_is("budget"), timeout_s=30)
        ids = [int(f["id"]) for f in received + rest if f.get("id")]
        assert ids == list(range(ids[0], ids[-1] + 1))
        assert len([f for f in received + rest if f["event"] == "line_done"]) == 8


def assert_budget_error(data: dict[str, Any], limit: int) -> None:
    assert data["code"] == "daily_budget_exceeded"
    assert "午前0時" in data["message"]
    resets = dt.datetime.fromisoformat(data["resets_at"])
    assert resets.utcoffset() == dt.timedelta(hours=9)
    assert (resets.hour, resets.minute, resets.second) == (0, 0, 0)
    now = dt.datetime.now(dt.UTC)
    assert 0 < (resets - now).total_seconds() <= 86400
    assert abs(data["retry_after"] - (resets - now).total_seconds()) < 10
    assert data["limit"] == limit


async def test_the_daily_model_budget_refuses_over_http_the_socket_and_the_driver(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    server: WatchServer = await start_server(**FAST, MODEL_DAILY_BUDGET_USER=3, WATCH_LINE_BUDGET=12)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        await next_line(client, headers, cid)  # 1
        await next_line(client, headers, cid)  # 2
        async with socket(server, cid, headers) as ws:
            await send(ws, type="step")  # 3
            await read_until(ws, nth_line_done(3))  # the log replays the two HTTP lines first
            await send(ws, type="step")
            refused = (await read_until(ws, lambda f: f["event"] == "error"))[-1]["data"]
            assert_budget_error(refused, 3)
        status, _, raw = await post_stream(client, f"/conversations/{cid}/next", headers)
        assert status == 429, raw
        assert_budget_error(json.loads(raw)["error"], 3)
        quiz = await client.post(f"{PREFIX}/conversations/{cid}/quiz", headers=headers)
        assert quiz.status_code == 429
        assert int(quiz.headers["Retry-After"]) > 0
        report = await client.post(f"{PREFIX}/conversations/{cid}/feedback", headers=headers)
        assert report.status_code == 429
        # What needs no model call still works, and nothing was lost.
        assert len(await stored_lines(client, headers, cid)) == 3
        assert (await client.post(f"{PREFIX}/conversations", json={}, headers=headers)).status_code == 201
        # Another learner has their own budget; a playing run stops at the budget and waits.
        _, other = await server.sign_in()
        run = await start_run(client, other)
        async with socket(server, run, other) as ws:
            await send(ws, type="play")
            frames = await read_until(ws, lambda f: f["event"] == "error", timeout_s=20)
            assert_budget_error(frames[-1]["data"], 3)
            assert len([f for f in frames if f["event"] == "line_done"]) == 3
            await read_until(ws, state_is("paused"))
        assert len(await stored_lines(client, other, run)) == 3


async def test_quiz_accuracy_for_the_progress_page_over_recent_runs(
    server: WatchServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    server.runs.options = type(server.runs.options)(line_budget=12, quiz_every=2)
    quiz = {"question": "良かった点は？", "choices": ["a", "b", "c"], "correct_index": 2, "explanation": "「」です。"}
    fake_gemini.script("quiz-model", *({"text": json.dumps(quiz, ensure_ascii=False)} for _ in range(3)))
    _, headers = await server.sign_in()
    empty = (await client.get(f"{PREFIX}/progress", headers=headers)).json()
    assert empty["quizzes"] == {"asked": 0, "answered": 0, "correct": 0, "accuracy": None}
    assert empty["runs"] == []
    runs = []
    for answers in ([2, 0], [1]):  # run 1: one right, one wrong; run 2: one wrong
        cid = await start_run(client, headers)
        runs.append(cid)
        for number, answer in enumerate(answers, start=1):
            await next_line(client, headers, cid)
            await next_line(client, headers, cid)
            graded = await client.post(
                f"{PREFIX}/conversations/{cid}/quizzes/q{number}/answer", json={"answer": answer}, headers=headers
            )
            assert graded.status_code == 200, graded.text
    untouched = await start_run(client, headers)  # no quiz: not listed
    progress = (await client.get(f"{PREFIX}/progress", headers=headers)).json()
    assert progress["recent"] == 10
    assert progress["quizzes"] == {"asked": 3, "answered": 3, "correct": 1, "accuracy": 0.333}
    assert [r["conversation_id"] for r in progress["runs"]] == [runs[1], runs[0]]
    assert untouched not in [r["conversation_id"] for r in progress["runs"]]
    assert progress["runs"][1]["quizzes"] == {"asked": 2, "answered": 2, "correct": 1, "accuracy": 0.5}
    assert progress["runs"][0]["quizzes"] == {"asked": 1, "answered": 1, "correct": 0, "accuracy": 0.0}
    assert set(progress["runs"][0]) == {"conversation_id", "title", "created_at", "state", "quizzes", "takes"}
    latest = (await client.get(f"{PREFIX}/progress", params={"recent": 2}, headers=headers)).json()
    assert latest["quizzes"]["answered"] == 1  # the untouched run and run 2
    assert (await client.get(f"{PREFIX}/progress", params={"recent": 0}, headers=headers)).status_code == 422
    _, stranger = await server.sign_in()
    assert (await client.get(f"{PREFIX}/progress", headers=stranger)).json()["runs"] == []


async def test_lines_spoken_over_http_are_replayed_to_a_socket_opened_later(start_server: Any) -> None:
    server: WatchServer = await start_server(**FAST)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        body = {"message": "お二人とも、おはようございます。", "client_message_id": "j1"}
        status, _, raw = await post_stream(client, f"/conversations/{cid}/join", headers, body)
        assert status == 200, raw
        await next_line(client, headers, cid)
        async with socket(server, cid, headers, last_event_id="0") as ws:
            frames = await read_until(ws, nth_line_done(3))
        stored = await stored_lines(client, headers, cid)
    assert next(f["event"] for f in frames) == "state"  # the join paused the run first
    assert frames[0]["id"] == "1"  # the log starts with its events (its owner header is not an event)
    shown = [(f["data"]["speaker"], f["data"]["text"]) for f in frames if f["event"] == "line_done"]
    assert shown == stored[1:]  # the learner's line, then both reactions and the next line, each once
