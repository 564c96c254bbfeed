"""The document-store fixture the contract suites share: the unit tests' fake, SQLite (in tmp_path) and the
Firestore emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake_store import FakeStore
from tests.support.firestore_emulator import FirestoreEmulator
from workplace_roleplay.adapters.firestore_store import FirestoreDocumentStore
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.ports import DocumentStore


@pytest.fixture(
    params=[pytest.param("fake"), pytest.param("sqlite"), pytest.param("firestore", marks=pytest.mark.integration)],
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    opened: DocumentStore
    if request.param == "fake":
        # The unit tests' fake must keep the same contract, or unit tests prove things the real stores break.
        opened = FakeStore()
    elif request.param == "sqlite":
        opened = await SqliteDocumentStore.open(tmp_path / "data" / "store.sqlite3")
    else:
        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator_clean")
        opened = FirestoreDocumentStore.build(
            project=emulator.project, database="(default)", emulator_host=emulator.address
        )
    try:
        yield opened
    finally:
        await opened.close()
