"""What only the SQLite store promises: durability on disk, and safety across connections and processes."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest

from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.errors import StoreUnavailable
from workplace_roleplay.ports import Filter, Transaction


async def _increment(tx: Transaction) -> None:
    current = await tx.get("counters/shared")
    value = current["v"] if current else 0
    tx.set("counters/shared", {"v": value + 1})


async def test_data_survives_closing_and_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "store.sqlite3"
    store = await SqliteDocumentStore.open(path)
    await store.set("users/u1", {"name": "佐藤", "level": 2})
    await store.set("users/u1/conversations/c1", {"mode": "chat"})
    await store.run_transaction(_increment)
    await store.close()
    assert path.is_file()

    reopened = await SqliteDocumentStore.open(path)
    try:
        assert await reopened.get("users/u1") == {"name": "佐藤", "level": 2}
        assert await reopened.get("counters/shared") == {"v": 1}
        found = await reopened.query("users/u1/conversations", where=[Filter("mode", "==", "chat")])
        assert [snapshot.path for snapshot in found] == ["users/u1/conversations/c1"]
    finally:
        await reopened.close()


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = await SqliteDocumentStore.open(path)
    try:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        await store.close()


async def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    first, second = await SqliteDocumentStore.open(path), await SqliteDocumentStore.open(path)
    try:
        await first.set("users/u1", {"from": "first"})
        assert await second.get("users/u1") == {"from": "first"}
        await second.update("users/u1", {"also": "second"})
        assert await first.get("users/u1") == {"from": "first", "also": "second"}
        await second.delete("users/u1")
        assert await first.get("users/u1") is None

        # Like `make run`: several services in one process, each with its own store on the same file.
        await asyncio.gather(*(store.run_transaction(_increment) for store in [first, second] * 10))
        assert await first.get("counters/shared") == {"v": 20}
    finally:
        await first.close()
        await second.close()


async def test_four_stores_opening_a_new_file_at_once_all_work(tmp_path: Path) -> None:
    # `make run` starts four services in one process; each opens the same (possibly new) file at startup.
    for attempt in range(10):
        path = tmp_path / f"fresh-{attempt}" / "store.sqlite3"
        stores = await asyncio.gather(*(SqliteDocumentStore.open(path) for _ in range(4)))
        try:
            await asyncio.gather(*(store.set(f"svc/{n}", {"n": n}) for n, store in enumerate(stores)))
            assert [s.id for s in await stores[0].query("svc")] == ["0", "1", "2", "3"]
        finally:
            for store in stores:
                await store.close()


async def test_another_process_on_the_same_file_loses_no_update(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    rounds = 150
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore

        async def increment(tx):
            current = await tx.get("counters/shared")
            tx.set("counters/shared", {{"v": (current["v"] if current else 0) + 1}})

        async def main():
            store = await SqliteDocumentStore.open(Path(sys.argv[1]))
            print("ready", flush=True)
            sys.stdin.readline()
            for _ in range({rounds}):
                await store.run_transaction(increment, attempts=10)
            await store.close()

        asyncio.run(main())
        """
    )
    store = await SqliteDocumentStore.open(path)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        str(path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdin is not None
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), timeout=60) == b"ready\n"
        child.stdin.write(b"go\n")
        await child.stdin.drain()
        for _ in range(rounds):
            await store.run_transaction(_increment, attempts=10)
        assert await asyncio.wait_for(child.wait(), timeout=60) == 0
        assert await store.get("counters/shared") == {"v": 2 * rounds}
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await store.close()


async def test_a_writer_waiting_for_the_lock_does_not_block_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    holder, waiter = await SqliteDocumentStore.open(path), await SqliteDocumentStore.open(path)
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold_the_lock(tx: Transaction) -> None:
        await tx.get("docs/a")
        inside.set()
        await release.wait()
        tx.set("docs/a", {"by": "holder"})

    try:
        held = asyncio.create_task(holder.run_transaction(hold_the_lock))
        await asyncio.wait_for(inside.wait(), timeout=5)
        write = asyncio.create_task(waiter.set("docs/a", {"by": "waiter"}))
        ticks = 0
        for _ in range(10):  # the loop keeps turning while the waiter's thread waits for SQLite's lock
            await asyncio.sleep(0.02)
            ticks += 1
        assert ticks == 10
        assert not write.done()
        release.set()
        await asyncio.wait_for(asyncio.gather(held, write), timeout=10)
        assert await holder.get("docs/a") == {"by": "waiter"}  # applied after the holder committed
    finally:
        release.set()
        await holder.close()
        await waiter.close()


async def test_a_transaction_that_cannot_get_the_lock_in_time_reports_the_store_unavailable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite3"
    holder = await SqliteDocumentStore.open(path)
    impatient = await SqliteDocumentStore.open(path, lock_timeout_s=0.2)
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold_the_lock(tx: Transaction) -> None:
        await tx.get("docs/a")
        inside.set()
        await release.wait()

    try:
        held = asyncio.create_task(holder.run_transaction(hold_the_lock))
        await asyncio.wait_for(inside.wait(), timeout=5)
        with pytest.raises(StoreUnavailable, match="locked"):
            await impatient.run_transaction(_increment)
        release.set()
        await held
        await impatient.run_transaction(_increment)
        assert await holder.get("counters/shared") == {"v": 1}
    finally:
        release.set()
        await holder.close()
        await impatient.close()


async def test_a_cancelled_transaction_writes_nothing_and_releases_the_lock(tmp_path: Path) -> None:
    store = await SqliteDocumentStore.open(tmp_path / "store.sqlite3", lock_timeout_s=2)
    inside = asyncio.Event()

    async def stuck(tx: Transaction) -> None:
        await tx.get("docs/a")
        tx.set("docs/a", {"written": True})
        inside.set()
        await asyncio.Event().wait()

    try:
        task = asyncio.create_task(store.run_transaction(stuck))
        await asyncio.wait_for(inside.wait(), timeout=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await store.get("docs/a") is None
        await asyncio.wait_for(store.run_transaction(_increment), timeout=5)
        assert await store.get("counters/shared") == {"v": 1}
    finally:
        await store.close()


async def test_a_closed_store_reports_itself_unavailable(tmp_path: Path) -> None:
    store = await SqliteDocumentStore.open(tmp_path / "store.sqlite3")
    await store.ping()
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.get("users/u1")
    with pytest.raises(StoreUnavailable):
        await store.run_transaction(_increment)


async def test_sqlite_errors_become_store_unavailable(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    with pytest.raises(StoreUnavailable):
        await SqliteDocumentStore.open(not_a_directory / "store.sqlite3")

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database file" * 100)
    with pytest.raises(StoreUnavailable):
        await SqliteDocumentStore.open(garbage)
