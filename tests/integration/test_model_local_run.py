"""``make run``'s gateway and the model: simple-response mode without a key, the fake Gemini with one.

Also checks that a simple-mode service never imports ``google.genai`` (the cold-start cost we keep off).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.chat_server import parse_sse
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.processes import free_port, wait_http_ok

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def local_run(data_dir: Path, **env: str) -> Iterator[str]:
    """``python -m workplace_roleplay.web.gateway`` (what ``make run`` execs) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "workplace_roleplay.web.gateway"],
        cwd=ROOT,
        env={
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "PORT": str(port),
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "WARNING",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{base}/api/v2/chat/health", timeout_s=60, process=process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def first_turn(base: str) -> dict[str, object]:
    """Sign in anonymously, open a chat, say one line; the ``done`` event of that turn."""
    with httpx.Client(base_url=base, timeout=30) as client:
        signed = client.post("/api/v2/auth/anonymous")
        assert signed.status_code == 201, signed.text
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}", "Accept": "text/event-stream"}
        opened = client.post("/api/v2/chat", json={"partner_type": "senior"}, headers=headers)
        assert opened.status_code == 200, opened.text
        conversation_id = parse_sse(opened.text)[0].data["conversation_id"]
        body = {
            "conversation_id": conversation_id,
            "message": "すみません、資料の提出が遅れてしまいました。",
            "client_message_id": "m1",
        }
        reply = client.post("/api/v2/chat", json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        events = parse_sse(reply.text)
    assert [e.name for e in events].count("token") >= 1
    done = events[-1]
    assert done.name == "done", reply.text
    return done.data


def test_make_run_without_a_key_answers_in_simple_mode(tmp_path: Path) -> None:
    with local_run(tmp_path) as base:
        done = first_turn(base)
        tts = httpx.post(f"{base}/api/v2/chat/tts", json={"text": "こんにちは"})
    assert done["simple_mode"] is True
    assert done["model"] == "simple"
    assert tts.status_code == 404  # TTS is off by default: a documented feature_disabled, not a 5xx
    assert tts.json()["error"]["code"] == "feature_disabled"


def test_make_run_with_base_url_and_any_key_streams_from_the_fake(
    tmp_path: Path, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="正直に報告してくれてありがとう。次の対応を一緒に考えましょう。", chunk_chars=5)
    with local_run(tmp_path, GEMINI_API_KEY="any-key", GEMINI_BASE_URL=fake_gemini.url) as base:
        done = first_turn(base)
    assert done["simple_mode"] is False
    assert done["model"] == "gemini-2.5-flash"
    assert done["text"] == "正直に報告してくれてありがとう。次の対応を一緒に考えましょう。"
    turns = [r for r in fake_gemini.requests(method="streamGenerateContent") if r["api_key"] == "any-key"]
    assert turns


def test_a_simple_mode_service_never_imports_google_genai(tmp_path: Path) -> None:
    probe = (
        "import asyncio, sys\n"
        "from functions.chat.main import create\n"
        "app = create()\n"
        "async def main():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        print(type(app.state.resources.model).__name__)\n"
        "asyncio.run(main())\n"
        "print('google.genai' in sys.modules)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split()[-2:] == ["SimpleModel", "False"], out.stdout + out.stderr
