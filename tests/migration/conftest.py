"""Fixtures of the migration tests: a real embedded store and the migration service over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.clock import ManualClock
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.domain.migration.service import MigrationService
from workplace_roleplay.domain.migration.writer import RepositoryConversationWriter


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteDocumentStore]:
    opened = await SqliteDocumentStore.open(tmp_path / "store.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(now=1_800_000_000.0)


@pytest.fixture
def service(store: SqliteDocumentStore, clock: ManualClock) -> MigrationService:
    return MigrationService(store=store, clock=clock, writer=RepositoryConversationWriter(store, clock))
