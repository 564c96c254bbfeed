"""``ops migrate-sessions`` in embedded mode: 500 sessions written by real Flask-Session, migrated once each."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from tests.support.legacy import filesystem_legacy, realistic_counts, realistic_session
from tools.ops.cli import run
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore

SESSIONS = 500


def seed_sessions(directory: Path, count: int) -> list[str]:
    legacy = filesystem_legacy(directory)
    # Every other session has a user_id (returning learners); the rest get one generated at migration.
    return [
        legacy.seed(realistic_session(user_id=f"00000000-0000-4000-8000-{i:012d}" if i % 2 else None, seed=i))
        for i in range(count)
    ]


@pytest.fixture
def embedded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENV", "test")
    monkeypatch.setenv("LOG_JSON", "false")
    monkeypatch.setenv("STORE_BACKEND", "sqlite")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path / "data" / "store.sqlite3"


async def count_done(path: Path) -> tuple[int, int]:
    store = await SqliteDocumentStore.open(path)
    try:
        records = await store.query("legacy_migrations")
        return len(records), sum(1 for r in records if r.data["status"] == "done")
    finally:
        await store.close()


def test_bulk_migration_of_500_sessions_then_a_rerun_repeats(
    tmp_path: Path, embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = tmp_path / "flask_session"
    seed_sessions(sessions, SESSIONS)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sessions.iterdir()}
    source = f"filesystem:{sessions}"

    assert run(["migrate-sessions", "--source", source, "--env", "local", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"dry run (nothing written): {SESSIONS} session(s)" in out
    assert f"migrated={SESSIONS}" in out
    assert f"messages={SESSIONS * realistic_counts()[1]}" in out

    assert run(["migrate-sessions", "--source", source, "--env", "local"]) == 0
    out = capsys.readouterr().out
    print(out)  # the summary line carries the rate (figures belong in bench/, this only shows it)
    assert f"migrated into sqlite: {SESSIONS} session(s)" in out
    assert f"; migrated={SESSIONS}" in out
    assert "  … 50 sessions" in out  # progress
    assert asyncio.run(count_done(embedded_env)) == (SESSIONS, SESSIONS)

    assert run(["migrate-sessions", "--source", source, "--env", "local"]) == 0
    assert f"; repeat={SESSIONS}" in capsys.readouterr().out
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sessions.iterdir()} == before


def test_a_bad_source_is_refused(embedded_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["migrate-sessions", "--source", "ftp://nowhere", "--env", "local"]) == 2
    assert "LEGACY_SESSION_SOURCE" in capsys.readouterr().err
