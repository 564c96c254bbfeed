"""Every captured legacy session (../shared/fixtures/legacy_sessions) is read and migrated faithfully."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.clock import ManualClock
from tests.support.legacy import captured_at, fixture_names, fixtures_dir, load_fixture, place_fixture
from workplace_roleplay.adapters.legacy_filesystem import FilesystemLegacySource, FilesystemUserData
from workplace_roleplay.adapters.legacy_redis import RedisLegacySource
from workplace_roleplay.domain.conversation.records import ConversationRepository
from workplace_roleplay.domain.migration.service import MigrationService
from workplace_roleplay.domain.migration.writer import RepositoryConversationWriter
from workplace_roleplay.ports import DocumentStore
from workplace_roleplay.ports.legacy_session import LegacyRecord, LegacySessionSource

MARKERS = ("[雑談開始]", "[シナリオ開始]")


def test_the_fixture_directory_is_there_with_all_fourteen() -> None:
    assert (fixtures_dir() / "README.md").is_file()
    assert len(fixture_names()) == 14


def expected_messages(session: dict[str, Any]) -> dict[str, int]:
    """Messages per mode, counted from the legacy dict independently of the transform."""

    def pairs(history: list[dict[str, str]]) -> int:
        return sum((e["human"] not in MARKERS) + bool(e["ai"]) for e in history)

    return {
        "chat": pairs(session.get("chat_history", [])),
        "scenario": sum(pairs(h) for h in session.get("scenario_history", {}).values()),
        "watch": len(session.get("watch_history", [])),
    }


async def source_for(fixture: dict[str, Any], tmp_path: Path, redis_url: str, prefix: str) -> LegacySessionSource:
    if fixture["backend"] == "filesystem":
        return FilesystemLegacySource(tmp_path / "flask_session")
    return RedisLegacySource.from_url(redis_url, secret_key=fixture["secret_key"], key_prefix=prefix)


@pytest.mark.parametrize("name", fixture_names())
async def test_fixture_reads_and_migrates(
    name: str, tmp_path: Path, redis_url: str, redis_namespace: str, store: DocumentStore
) -> None:
    fixture = load_fixture(name)
    client = redis.Redis.from_url(redis_url)
    cookie = place_fixture(fixture, tmp_path, redis_client=client, prefix=redis_namespace)
    client.close()
    source = await source_for(fixture, tmp_path, redis_url, redis_namespace)
    now = captured_at(fixture)
    try:
        record = await source.read(cookie, now=now)
    finally:
        await source.close()
    assert isinstance(record, LegacyRecord)
    assert record.data == fixture["decoded"]  # the restricted readers decode exactly what was stored

    clock = ManualClock(now=now)
    service = MigrationService(
        store=store,
        clock=clock,
        writer=RepositoryConversationWriter(store, clock),
        user_data=FilesystemUserData(tmp_path / "user_data"),
    )
    outcome = await service.migrate(record)
    decoded = fixture["decoded"]
    if "user_id" in decoded:
        assert outcome.user_id == decoded["user_id"]  # byte for byte
    expected = expected_messages(decoded)
    assert outcome.messages == sum(expected.values())
    repo = ConversationRepository(store, clock)
    for mode, count in expected.items():
        convs = await repo.list_recent(outcome.user_id, limit=50, mode=mode)
        stored = [m for c in convs for m in await repo.messages(c)]
        assert len(stored) == count, mode
        assert not any(m.text in MARKERS for m in stored)  # opening markers never become learner text
    if name.endswith("_unpatched") or name.endswith("_fresh"):
        assert outcome.status == "nothing_to_migrate"  # a CSRF token only: nothing of the learner's
        assert outcome.messages == 0
    else:
        assert outcome.status == "migrated"
    if fixture.get("related_server_state"):
        progress = await store.get(f"users/{outcome.user_id}/progress/legacy-{record.key[:16]}")
        assert progress is not None
        assert progress["user_data"] == fixture["related_server_state"]["content"]
    user = await store.get(f"users/{outcome.user_id}")
    assert user is not None
    assert user["legacy"]["csrf_token"] == decoded["csrf_token"]


@pytest.mark.parametrize("name", [n for n in fixture_names() if n.startswith("filesystem_")])
async def test_filesystem_fixture_expires_at_its_recorded_expiry(name: str, tmp_path: Path) -> None:
    fixture = load_fixture(name)
    cookie = place_fixture(fixture, tmp_path)
    source = FilesystemLegacySource(tmp_path / "flask_session")
    expiry = fixture["server_record"]["expiry_epoch"]
    assert await source.read(cookie, now=expiry - 1) is not None
    assert await source.read(cookie, now=expiry) is None
