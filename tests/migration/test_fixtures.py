"""Every captured legacy session (../shared/fixtures/legacy_sessions) is read and migrated faithfully."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from functions.migrate_session.deps import migration_service
from tests.support.clock import ManualClock
from tests.support.legacy import captured_at, fixture_names, fixtures_dir, load_fixture, place_fixture
from workplace_roleplay.adapters.legacy_filesystem import FilesystemLegacySource, FilesystemUserData
from workplace_roleplay.adapters.legacy_redis import RedisLegacySource
from workplace_roleplay.domain.conversation.mode import Mode
from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Message, Role
from workplace_roleplay.domain.scenario.catalog import load_catalog
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


def assert_engine_shaped(convs: list[Conversation], stored: list[Message], mode: str) -> None:
    """Migrated conversations look like the ones the engine starts: every line names its speaker, chat
    has the mode's full settings, scenarios carry their v2 scenario, watch speaks as 太郎 and 花子."""
    catalog = load_catalog()
    for m in stored:
        assert m.speaker == ("learner" if m.role is Role.LEARNER else m.speaker)
        assert m.speaker, m
    for conv in convs:
        assert conv.mode == Mode(mode).value
        assert conv.root_id == conv.id
        assert conv.extra["migrated_from_legacy"] is True
        if mode == "chat":
            assert set(conv.settings) == {"partner_type", "situation", "topic"}
        if mode == "scenario":
            legacy_id = conv.extra["legacy_scenario_id"]
            assert conv.extra["scenario_mapped"] is True
            assert conv.settings["scenario_id"] == catalog.for_legacy_id(legacy_id).id
    replies = {m.speaker for m in stored if m.role is Role.COUNTERPART}
    if mode == "watch" and replies:
        assert replies <= {"太郎", "花子"}
    if mode == "scenario":
        assert "相手役" not in replies


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
    service = migration_service(store, clock, user_data=FilesystemUserData(tmp_path / "user_data"))
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
        assert_engine_shaped(convs, stored, mode)
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
