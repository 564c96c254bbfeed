"""The reserved ``expires_at`` field on both adapters: same JSON back, Timestamp in Firestore, TTL on SQLite."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.firestore_emulator import FirestoreEmulator
from workplace_roleplay.adapters.firestore_store import FirestoreDocumentStore
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.errors import AlreadyExists, InvalidInput, NotFound
from workplace_roleplay.ports import EXPIRES_AT, DocumentStore, Filter, Transaction

HOUR = 3600


def _later(seconds: float) -> float:
    # Whole seconds plus a sub-microsecond tail: the stored value is this rounded to microseconds.
    return float(int(time.time()) + seconds) + 0.1234567


async def test_the_expiry_comes_back_as_the_same_epoch_float(store: DocumentStore) -> None:
    whole, fractional = int(time.time()) + HOUR, _later(2 * HOUR)
    await store.set("sessions/a", {"user": "u1", EXPIRES_AT: whole})
    await store.create("sessions/b", {"user": "u2", EXPIRES_AT: fractional, "nested": {EXPIRES_AT: "free"}})
    a, b = await store.get("sessions/a"), await store.get("sessions/b")
    assert a == {"user": "u1", EXPIRES_AT: float(whole)}
    assert isinstance(a[EXPIRES_AT], float)
    assert b == {"user": "u2", EXPIRES_AT: round(fractional, 6), "nested": {EXPIRES_AT: "free"}}
    found = {s.id: s.data for s in await store.query("sessions")}
    assert found == {"a": a, "b": b}

    async def read(tx: Transaction) -> dict[str, Any] | None:
        return await tx.get("sessions/b")

    assert await store.run_transaction(read) == b


async def test_update_merge_and_transactions_write_the_expiry(store: DocumentStore) -> None:
    first, second, third = _later(HOUR), _later(2 * HOUR), _later(3 * HOUR)
    await store.set("sessions/s", {"user": "u1"})
    await store.update("sessions/s", {EXPIRES_AT: first})
    assert await store.get("sessions/s") == {"user": "u1", EXPIRES_AT: round(first, 6)}
    await store.set("sessions/s", {EXPIRES_AT: second}, merge=True)
    assert await store.get("sessions/s") == {"user": "u1", EXPIRES_AT: round(second, 6)}

    async def extend(tx: Transaction) -> None:
        tx.update("sessions/s", {EXPIRES_AT: third})
        tx.set("sessions/t", {EXPIRES_AT: third})

    await store.run_transaction(extend)
    assert (await store.get("sessions/s") or {})[EXPIRES_AT] == round(third, 6)
    assert await store.get("sessions/t") == {EXPIRES_AT: round(third, 6)}
    await store.update("sessions/s", {EXPIRES_AT: None})  # never expires
    assert await store.get("sessions/s") == {"user": "u1", EXPIRES_AT: None}


async def test_expiry_filters_and_orders_like_numbers(store: DocumentStore) -> None:
    base = int(time.time()) + HOUR
    for name, offset in (("a", 300), ("b", 100), ("c", 200)):
        await store.set(f"sessions/{name}", {EXPIRES_AT: base + offset})
    await store.set("sessions/never", {EXPIRES_AT: None})
    await store.set("sessions/plain", {"user": "u"})

    async def ids(*where: Filter, order_by: str | None = None) -> list[str]:
        return [s.id for s in await store.query("sessions", where=list(where), order_by=order_by)]

    assert await ids(Filter(EXPIRES_AT, "<", base + 250)) == ["b", "c"]
    assert await ids(Filter(EXPIRES_AT, ">=", float(base + 200))) == ["c", "a"]
    assert await ids(Filter(EXPIRES_AT, "==", base + 100)) == ["b"]
    assert await ids(Filter(EXPIRES_AT, "in", [base + 300, base + 100])) == ["a", "b"]
    assert await ids(order_by=EXPIRES_AT) == ["never", "b", "c", "a"]


@pytest.mark.parametrize("value", ["tomorrow", True, [1], {"at": 1}, 1e300])
async def test_the_expiry_field_holds_only_epoch_seconds(store: DocumentStore, value: Any) -> None:
    with pytest.raises(InvalidInput, match="expires_at"):
        await store.set("sessions/x", {EXPIRES_AT: value})
    await store.set("sessions/x", {"user": "u"})
    with pytest.raises(InvalidInput, match="expires_at"):
        await store.update("sessions/x", {EXPIRES_AT: value})

    async def write(tx: Transaction) -> None:
        tx.set("sessions/y", {EXPIRES_AT: value})

    with pytest.raises(InvalidInput, match="expires_at"):
        await store.run_transaction(write)
    assert await store.get("sessions/y") is None


# --- how each adapter makes the expiry real ---------------------------------------------------------------


def _sqlite_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        count: int = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    return count


async def test_sqlite_treats_an_expired_document_as_deleted(tmp_path: Path) -> None:
    clock = ManualClock()  # the store judges expiry by its clock (the services pass theirs)
    store = await SqliteDocumentStore.open(tmp_path / "store.sqlite3", clock=clock)
    try:
        await store.set("sessions/live", {"user": "u0"})  # the first write's purge finds nothing yet
        past = clock.now() - 1
        await store.set("sessions/gone", {"user": "u1", EXPIRES_AT: past})
        await store.set("sessions/soon", {"user": "u2", EXPIRES_AT: clock.now() + 30})
        assert await store.get("sessions/soon") is not None
        assert await store.get("sessions/gone") is None
        assert [s.id for s in await store.query("sessions")] == ["live", "soon"]

        async def read(tx: Transaction) -> dict[str, Any] | None:
            return await tx.get("sessions/gone")

        assert await store.run_transaction(read) is None
        with pytest.raises(NotFound):
            await store.update("sessions/gone", {"user": "u9"})
        await store.set("sessions/gone", {"note": "merged"}, merge=True)  # starts from nothing
        assert await store.get("sessions/gone") == {"note": "merged"}

        clock.advance(30)  # "soon" reaches its expiry
        assert await store.get("sessions/soon") is None
        await store.create("sessions/soon", {"user": "u3"})  # an expired document does not block create
        assert await store.get("sessions/soon") == {"user": "u3"}
        with pytest.raises(AlreadyExists):
            await store.create("sessions/soon", {"user": "u4"})
    finally:
        await store.close()


async def test_sqlite_purges_expired_rows_on_a_write_and_on_demand(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    clock = ManualClock()
    store = await SqliteDocumentStore.open(db, clock=clock)
    try:
        past = clock.now() - 1
        # The first write after opening also purges: the row it just wrote is already past its expiry.
        await store.set("sessions/a", {EXPIRES_AT: past})
        assert _sqlite_rows(db) == 0
        # Later writes purge at most once a minute, so expired rows wait (invisible) until then...
        await store.set("sessions/b", {EXPIRES_AT: past})
        await store.set("sessions/c", {EXPIRES_AT: None})
        assert _sqlite_rows(db) == 2
        # ...or until someone asks.
        assert await store.purge_expired() == 1
        assert _sqlite_rows(db) == 1
        assert await store.get("sessions/c") == {EXPIRES_AT: None}
        await store.set("sessions/d", {EXPIRES_AT: clock.now() + 60})
        clock.advance(61)
        assert await store.purge_expired() == 1
        assert _sqlite_rows(db) == 1
    finally:
        await store.close()


@pytest.mark.integration
async def test_firestore_stores_the_expiry_as_a_timestamp_for_its_ttl_policy(
    firestore_emulator_clean: FirestoreEmulator,
) -> None:
    emulator = firestore_emulator_clean
    store = FirestoreDocumentStore.build(project=emulator.project, database="(default)", emulator_host=emulator.address)
    at = _later(HOUR)
    try:
        await store.set("refresh_tokens/t1", {"user_id": "u1", EXPIRES_AT: at})
        past = time.time() - 60
        await store.set("refresh_tokens/t2", {"user_id": "u2", EXPIRES_AT: past})
        # TTL deletion is asynchronous (the emulator never runs it): until then the document reads back as
        # written, which is why callers compare expires_at themselves.
        assert await store.get("refresh_tokens/t2") == {"user_id": "u2", EXPIRES_AT: round(past, 6)}
    finally:
        await store.close()
    url = f"http://{emulator.address}/v1/projects/{emulator.project}/databases/(default)/documents/refresh_tokens/t1"
    async with httpx.AsyncClient(timeout=10) as client:
        fields = (await client.get(url, headers={"Authorization": "Bearer owner"})).json()["fields"]
    assert fields["user_id"] == {"stringValue": "u1"}
    stamp = fields[EXPIRES_AT]["timestampValue"]
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")) == datetime.fromtimestamp(round(at, 6), UTC)
