"""Fixtures of the security suite: the identity service over each document-store backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.clock import ManualClock
from tests.support.fakes import FakeStore
from tests.support.firestore_emulator import FirestoreEmulator
from tests.support.identity import IdentityKit, identity_kit
from workplace_roleplay.adapters.firestore_store import FirestoreDocumentStore
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.ports import DocumentStore


@pytest.fixture(params=["fake", "sqlite", pytest.param("firestore", marks=pytest.mark.integration)])
async def kit(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[IdentityKit]:
    """The identity service over the in-process fake, the real SQLite store and the Firestore emulator."""
    store: DocumentStore
    clock = ManualClock()  # the SQLite store judges expiry by the same clock the tokens are issued by
    if request.param == "fake":
        store = FakeStore()
    elif request.param == "sqlite":
        store = await SqliteDocumentStore.open(tmp_path / "identity.sqlite3", clock=clock)
    else:
        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator_clean")
        store = FirestoreDocumentStore.build(
            project=emulator.project, database="(default)", emulator_host=emulator.address, timeout_s=10
        )
    yield identity_kit(store, clock=clock)
    await store.close()
