"""Runbook "Authentication failure" end to end: the switch, then a legacy session identifies the learner
through the real filesystem reader (read-only), while v2 tokens do not verify."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tests.support.legacy import filesystem_legacy, realistic_session
from tests.support.local_gateway import run_gateway
from tools.ops.cli import run
from tools.ops.settings import OpsSettings
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore

pytestmark = pytest.mark.integration
UID = "ecd0938e-1430-4046-92aa-5385295c708a"


def test_fallback_auth_identifies_a_legacy_learner_with_the_real_reader(
    ops_settings: OpsSettings, env_root: Path, tmp_path: Path
) -> None:
    # Step 1 of the runbook: the switch (prod root copy); its values are what Cloud Run gets as env.
    assert run(["switch", "FALLBACK_AUTH", "flask_session", "--env", "prod"], ops_settings) == 0
    switched = json.loads((env_root / "prod" / "switches.auto.tfvars.json").read_text())["runtime_switches"]
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session(user_id=UID))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sessions.iterdir()}
    data = tmp_path / "data"
    data.mkdir()
    with (
        run_gateway(data, LEGACY_SESSION_SOURCE=f"filesystem:{sessions}", **switched) as base,
        httpx.Client(base_url=base) as client,
    ):
        migrated = client.post("/api/v2/migrate/session", json={"session": cookie})  # migrated earlier
        assert migrated.json()["user_id"] == UID
        # A learner whose v2 token no longer verifies (the incident) but who still has the legacy cookie.
        cookies = {"session": cookie, "wr_access": "eyJhbGciOiJIUzI1NiJ9.e30.broken"}
        listed = client.get("/api/v2/chat/conversations", cookies=cookies)
        assert listed.status_code == 200, listed.text
        assert len(listed.json()["items"]) == 1  # the legacy learner's own (migrated) chat: same user_id
        forged = client.get("/api/v2/chat/conversations", cookies={"session": "z" * 43})
        assert forged.status_code == 401
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sessions.iterdir()} == before
    records = asyncio.run(stored(data / "store.sqlite3", "legacy_migrations"))
    assert [r["attempts"] for r in records] == [1]  # the fallback only read the session: no new attempt


async def stored(path: Path, collection: str) -> list[dict[str, object]]:
    store = await SqliteDocumentStore.open(path)
    try:
        return [row.data for row in await store.query(collection)]
    finally:
        await store.close()
