"""The live transport over real HTTP with a real WebSocket client (websockets), and its SSE + POST fallback:
play/pause/step, a reconnect to a second instance, two clients, another learner, limits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from tests.support.chat_server import parse_sse
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.watch_server import PREFIX, WatchServer, start_run
from tests.support.watch_socket import lines_done, nth_line_done, read_until, send, socket, stored_lines

pytestmark = pytest.mark.integration

FAST = {"WATCH_LINE_PAUSE_S": 0.05, "WATCH_QUIZ_EVERY": 0}


async def test_play_streams_alternating_lines_and_pause_stops_and_step_speaks_one(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    server: WatchServer = await start_server(**FAST)
    fake_gemini.configure(text="はい、そうしましょう。次の打ち合わせで確認します。", chunk_chars=4)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        async with socket(server, cid, headers) as ws:
            await send(ws, type="ping")
            assert json.loads(await ws.recv())["event"] == "pong"
            await send(ws, type="play")
            frames = await read_until(ws, nth_line_done(2))
            assert [s for s, _ in lines_done(frames)] == ["太郎さん", "花子さん"]
            tokens = [f for f in frames if f["event"] == "token"]
            assert len(tokens) >= 4  # token by token, not whole lines
            ids = [int(f["id"]) for f in frames if f.get("id")]
            assert ids == sorted(ids)
            assert len(ids) == len(set(ids))
            await send(ws, type="pause")
            await read_until(ws, lambda f: f["event"] == "state" and f["data"]["state"] == "paused")
            await asyncio.sleep(0.5)  # the driver finishes the line it was speaking, then stops
            spoken = len(await stored_lines(client, headers, cid))
            await asyncio.sleep(0.5)
            assert len(await stored_lines(client, headers, cid)) == spoken
            await send(ws, type="step")
            await read_until(ws, lambda f: f["event"] == "done")
        await asyncio.sleep(0.2)
        assert len(await stored_lines(client, headers, cid)) in (spoken + 1, spoken + 2)


async def test_a_reconnect_to_a_second_instance_resumes_without_a_duplicate_or_missing_line(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    first: WatchServer = await start_server(**FAST, WATCH_LINE_BUDGET=6)
    second: WatchServer = await start_server(**FAST, WATCH_LINE_BUDGET=6)
    fake_gemini.configure(text="では、その案で進めてみましょう。", chunk_chars=5)
    _, headers = await first.sign_in()
    async with httpx.AsyncClient(base_url=first.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        async with socket(first, cid, headers) as ws:
            await send(ws, type="play")
            before = await read_until(ws, nth_line_done(2))
        last_id = max(int(f["id"]) for f in before if f.get("id"))
        # The socket is gone; the run keeps speaking. Reconnect elsewhere from the last id seen.
        async with socket(second, cid, headers, last_event_id=str(last_id)) as ws:
            after = await read_until(ws, lambda f: f["event"] == "state" and f["data"]["state"] == "budget")
        ids = [int(f["id"]) for f in before + after if f.get("id")]
        assert ids == list(range(1, ids[-1] + 1))  # every event once, in order, across both instances
        shown = lines_done(before) + lines_done(after)
        assert shown == await stored_lines(client, headers, cid)
        assert len(shown) == 6


async def test_two_clients_of_one_learner_see_the_same_lines(start_server: Any) -> None:
    server: WatchServer = await start_server(**FAST, WATCH_LINE_BUDGET=3)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        async with socket(server, cid, headers) as one, socket(server, cid, headers) as two:
            await send(one, type="play")
            budget = lambda f: f["event"] == "state" and f["data"]["state"] == "budget"  # noqa: E731
            seen_one, seen_two = await asyncio.gather(read_until(one, budget), read_until(two, budget))
        assert lines_done(seen_one) == lines_done(seen_two)
        assert len(lines_done(seen_one)) == 3
        assert [f.get("id") for f in seen_one] == [f.get("id") for f in seen_two]


async def test_another_learner_a_foreign_origin_and_no_credentials_are_refused(server: WatchServer) -> None:
    _, owner = await server.sign_in()
    _, stranger = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, owner)
    for headers in (stranger, {}, {**owner, "Origin": "https://evil.example"}):
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with socket(server, cid, headers) as ws:
                await ws.recv()
        assert refused.value.response.status_code == 403


async def test_limits_big_message_idle_socket_and_bad_commands(start_server: Any) -> None:
    server: WatchServer = await start_server(WATCH_SOCKET_IDLE_S=0.5, WATCH_SOCKET_MAX_MESSAGE_BYTES=256)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
    async with socket(server, cid, headers) as ws:
        await send(ws, type="dance")
        error = json.loads(await ws.recv())
        assert error["event"] == "error"
        assert error["data"]["code"] == "invalid_input"
        await ws.send("not json")
        assert json.loads(await ws.recv())["data"]["code"] == "invalid_input"
        await send(ws, type="join", text="あ" * 200, client_message_id="big")
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1009
    async with socket(server, cid, headers) as ws:
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4408  # idle


async def test_the_sse_fallback_carries_the_same_events_and_resumes_from_last_event_id(
    start_server: Any,
) -> None:
    server: WatchServer = await start_server(**FAST, WATCH_LINE_BUDGET=2)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        accepted = await client.post(f"{PREFIX}/conversations/{cid}/commands", json={"type": "play"}, headers=headers)
        assert accepted.status_code == 202
        raw = ""
        async with client.stream("GET", f"{PREFIX}/conversations/{cid}/events", headers=headers) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_text():
                raw += chunk
                if '"state":"budget"' in raw:
                    break
        events = parse_sse(raw)
        assert [e.data["speaker"] for e in events if e.name == "line_done"] == ["太郎さん", "花子さん"]
        middle = next(e for e in events if e.name == "line_done").id
        resumed = ""
        async with client.stream(
            "GET", f"{PREFIX}/conversations/{cid}/events", headers={**headers, "Last-Event-ID": middle}
        ) as response:
            async for chunk in response.aiter_text():
                resumed += chunk
                if '"state":"budget"' in resumed:
                    break
        again = parse_sse(resumed)
        assert [e.id for e in again] == [e.id for e in events if int(e.id) > int(middle)]
        refused = await client.post(f"{PREFIX}/conversations/{cid}/commands", json={"type": "x"}, headers=headers)
        assert refused.status_code == 422
        _, stranger = await server.sign_in()
        foreign = await client.get(f"{PREFIX}/conversations/{cid}/events", headers=stranger)
        assert foreign.status_code == 404


async def test_socket_commands_spend_the_model_rate_limit_and_playing_runs_are_capped(start_server: Any) -> None:
    server: WatchServer = await start_server(RATE_LIMIT_MODEL_USER="2/60", WATCH_MAX_PLAYING=1, WATCH_LINE_PAUSE_S=5)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        first = await start_run(client, headers)
        second = await start_run(client, headers)
        async with socket(server, first, headers) as ws:
            await send(ws, type="play")
            await read_until(ws, lambda f: f["event"] == "state" and f["data"]["state"] == "playing")
        async with socket(server, second, headers) as ws:
            await send(ws, type="play")
            refused = await read_until(ws, lambda f: f["event"] == "error")
            assert refused[-1]["data"]["code"] == "too_many_watch_runs"
            assert refused[-1]["data"]["max_playing"] == 1
            await send(ws, type="step")  # the third model-calling command of this learner within the minute
            limited = await read_until(ws, lambda f: f["event"] == "error")
            assert limited[-1]["data"]["code"] == "rate_limited"
        paused = await client.post(f"{PREFIX}/conversations/{first}/control", json={"action": "pause"}, headers=headers)
        assert paused.json()["state"] == "paused"
