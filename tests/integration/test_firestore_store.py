"""What only the Firestore store promises: settings (not os.environ) pick the emulator, outages become 503s."""

from __future__ import annotations

import time

import pytest

from tests.support.firestore_emulator import FirestoreEmulator
from tests.support.processes import free_port
from workplace_roleplay.adapters.firestore_store import FirestoreDocumentStore
from workplace_roleplay.bootstrap import build_store
from workplace_roleplay.errors import StoreUnavailable
from workplace_roleplay.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_the_emulator_host_comes_from_the_argument_not_the_environment(
    firestore_emulator_clean: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stray variable pointing at nothing must not redirect the store built from settings.
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    store = FirestoreDocumentStore.build(
        project=firestore_emulator_clean.project,
        database="(default)",
        emulator_host=firestore_emulator_clean.address,
        timeout_s=5,
    )
    try:
        await store.set("users/u1", {"ok": True})
        assert await store.get("users/u1") == {"ok": True}
    finally:
        await store.close()


async def test_bootstrap_builds_the_firestore_store_from_settings(firestore_emulator_clean: FirestoreEmulator) -> None:
    settings = ServiceSettings(
        STORE_BACKEND="firestore",
        GOOGLE_CLOUD_PROJECT=firestore_emulator_clean.project,
        FIRESTORE_EMULATOR_HOST=firestore_emulator_clean.address,
    )
    store = await build_store(settings)
    try:
        assert store.backend == "firestore"
        await store.ping()
        await store.create("users/u1", {"名前": "田中"})
        assert await store.get("users/u1") == {"名前": "田中"}
    finally:
        await store.close()


async def test_an_unreachable_firestore_is_reported_unavailable_within_the_timeout() -> None:
    store = FirestoreDocumentStore.build(
        project="wr-test-unreachable", database="(default)", emulator_host=f"127.0.0.1:{free_port()}", timeout_s=1.5
    )
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.get("users/u1")
        with pytest.raises(StoreUnavailable):
            await store.query("users")
        assert time.monotonic() - started < 15
    finally:
        await store.close()
