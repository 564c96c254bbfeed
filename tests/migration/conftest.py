"""Fixtures of the migration tests: a real embedded store and the migration service over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from functions.migrate_session.deps import migration_service
from tests.support.clock import ManualClock
from tests.support.firestore_emulator import FirestoreEmulator
from workplace_roleplay.adapters.firestore_store import FirestoreDocumentStore
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.domain.migration.service import MigrationService
from workplace_roleplay.ports import DocumentStore


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("firestore", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    """Both document stores: the migration's transactions must hold on SQLite and on Firestore."""
    opened: DocumentStore
    if request.param == "sqlite":
        opened = await SqliteDocumentStore.open(tmp_path / "store.sqlite3")
    else:
        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator_clean")
        opened = FirestoreDocumentStore.build(
            project=emulator.project, database="(default)", emulator_host=emulator.address
        )
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(now=1_800_000_000.0)


@pytest.fixture
def service(store: DocumentStore, clock: ManualClock) -> MigrationService:
    return migration_service(store, clock)
