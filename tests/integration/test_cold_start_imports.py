"""A service starts without importing the Firestore SDK (ADR 0032): the store's client is built by the first store
call, which in the cloud is the startup probe's ``/ready`` — a real ping of the emulator here, after which the SDK is
loaded and the store answers. Checked in a fresh interpreter running the chat service's real startup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.firestore_emulator import FirestoreEmulator

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STARTUP = """
import asyncio, json, sys
import httpx
from functions.chat.main import create

app = create()

async def main():
    seen = {}
    async with app.router.lifespan_context(app):
        seen["after_startup"] = sorted(m for m in ("google.cloud.firestore", "google.genai") if m in sys.modules)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            seen["health"] = (await client.get("/api/v2/chat/health")).status_code
            ready = await client.get("/api/v2/chat/ready")
            seen["ready"] = [ready.status_code, ready.json()["checks"]["store"]]
        seen["after_ready"] = "google.cloud.firestore" in sys.modules
    print(json.dumps(seen))

asyncio.run(main())
"""


def test_the_firestore_sdk_waits_for_the_first_store_call(
    firestore_emulator_clean: FirestoreEmulator, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "ENV": "local",
        "DATA_DIR": str(tmp_path),
        "STORE_BACKEND": "firestore",
        "FIRESTORE_EMULATOR_HOST": firestore_emulator_clean.address,
        "GOOGLE_CLOUD_PROJECT": firestore_emulator_clean.project,
        "GEMINI_API_KEY": "cold-start-test",
        "GEMINI_BASE_URL": "http://127.0.0.1:9",
    }
    proc = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["after_startup"] == [], "the Firestore SDK (or the model SDK) was imported at startup"
    assert seen["health"] == 200
    assert seen["ready"] == [200, {"status": "ok", "backend": "firestore", "detail": ""}]
    assert seen["after_ready"] is True
