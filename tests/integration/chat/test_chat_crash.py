"""A server killed mid-reply (issue 13 item 6; ADR 0010): real processes, real SIGKILL.

The chat service runs as its own process on SQLite and a Redis of the test's own. While it streams a
reply it is killed with SIGKILL; a fresh process on the same store and Redis must answer the retry
of that message within seconds (the dead holder's turn lease expires), keeping what had been streamed
(from the sealed replay buffer) as the turn's partial reply.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.chat_server import parse_sse, stream_turn
from tests.support.fake_gemini import ROOT, FakeGeminiControl
from tests.support.processes import free_port, wait_http_ok
from tests.support.redis_server import RedisServer
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.bootstrap import build_security
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.settings import ChatSettings

pytestmark = pytest.mark.integration

LEASE_S = 2.0
LONG = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほ" * 2


def server_env(data_dir: Path, redis_url: str, gemini_url: str) -> dict[str, str]:
    return {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "ENV": "test",
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        "STORE_BACKEND": "sqlite",
        "DATA_DIR": str(data_dir),
        "REDIS_URL": redis_url,
        "GEMINI_API_KEY": "crash-test-key",
        "GEMINI_BASE_URL": gemini_url,
        "MODEL_RETRY_ATTEMPTS": "1",
        "TURN_LEASE_S": str(LEASE_S),
        "RATE_LIMIT_ENABLED": "false",  # the retry polls; limits are not what this test is about
    }


class ChatProcess:
    """``uvicorn --factory functions.chat.main:create`` as a child process."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "uvicorn", "--factory", "functions.chat.main:create"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_http_ok(f"{self.url}/api/v2/chat/health", timeout_s=60, process=self.process)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def chat_processes(
    tmp_path: Path, private_redis: RedisServer, fake_gemini: FakeGeminiControl
) -> Iterator[tuple[list[ChatProcess], dict[str, str]]]:
    env = server_env(tmp_path / "data", private_redis.url, fake_gemini.url)
    started: list[ChatProcess] = []
    try:
        yield started, env
    finally:
        for process in started:
            process.kill()


async def test_a_reply_cut_by_sigkill_is_kept_as_partial_and_the_retry_is_answered_within_seconds(
    chat_processes: tuple[list[ChatProcess], dict[str, str]], fake_gemini: FakeGeminiControl, tmp_path: Path
) -> None:
    started, env = chat_processes
    first = ChatProcess(env)
    started.append(first)
    settings = ChatSettings(ENV="test", STORE_BACKEND="sqlite", DATA_DIR=tmp_path / "data", LOG_JSON=False)
    store = await SqliteDocumentStore.open(tmp_path / "data" / "store.sqlite3")
    try:
        signed = await build_security(settings, store, SystemClock()).identity.sign_in_anonymously()
    finally:
        await store.close()
    headers = {"Authorization": f"Bearer {signed.access_token}"}

    async with httpx.AsyncClient(base_url=first.url, timeout=30.0) as client:
        status, events, raw = await stream_turn(client, headers, {"partner_type": "senior"})
        assert status == 200, raw
        conversation_id = events[0].data["conversation_id"]
        fake_gemini.configure(text=LONG, chunk_chars=2, chunk_delay_ms=150)
        body = {"conversation_id": conversation_id, "message": "長い話をお願いします", "client_message_id": "crash"}
        got = ""
        async with client.stream(
            "POST", "/api/v2/chat", json=body, headers={**headers, "Accept": "text/event-stream"}
        ) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_text():
                got += chunk
                if got.count("event: token") >= 3:
                    first.kill()  # mid-reply: no cleanup, no partial write, no closing event
                    break
    seen = "".join(str(e.data["text"]) for e in parse_sse(got.rsplit("\n\n", 1)[0] + "\n\n") if e.name == "token")
    assert seen

    fake_gemini.configure(text="新しい返答です。", chunk_chars=4, chunk_delay_ms=0)
    second = ChatProcess(env)
    started.append(second)
    async with httpx.AsyncClient(base_url=second.url, timeout=30.0) as client:
        waited = time.monotonic()
        while True:
            retry = await client.post("/api/v2/chat", json=body, headers={**headers, "Accept": "application/json"})
            if retry.status_code != 409 or time.monotonic() - waited > 20:
                break
            assert retry.json()["error"]["code"] == "turn_in_progress"
            await asyncio.sleep(0.25)
        waited = time.monotonic() - waited
        assert retry.status_code == 200, retry.text
        assert waited < LEASE_S + 3.0
        answer = retry.json()
        assert answer["status"] == "partial"
        assert answer["text"].startswith(seen)
        assert len(answer["text"]) < len(LONG)
        detail = (await client.get(f"/api/v2/chat/conversations/{conversation_id}", headers=headers)).json()
        reply = detail["messages"][-1]
        assert reply["role"] == "counterpart"
        assert reply["status"] == "partial"
        assert reply["text"] == answer["text"]
        # The conversation is free again for the next line.
        status, events, raw = await stream_turn(
            client, headers, {"conversation_id": conversation_id, "message": "続けて", "client_message_id": "after"}
        )
        assert status == 200, raw
        assert events[-1].data["status"] == "complete"
