"""The embedded document store: one SQLite file in WAL mode, safe across connections and processes.

Threads: reads of documents and queries run on the event loop over a read connection of their own (in WAL
mode a reader never waits for a writer, and a thread hop costs more CPU than the read; a read that finds the
file busy anyway, e.g. during recovery, goes to the worker thread instead; ADR 0030). Plain writes run on one
worker thread that owns the store's main connection (so a commit's fsync never blocks the event loop and
writes never interleave). Each transaction borrows a connection of its own and runs its
statements on a small transaction pool; it takes SQLite's write lock with ``BEGIN IMMEDIATE`` without
blocking a thread (the wait is an ``asyncio.sleep`` loop), so any number of concurrent transactions cannot
starve the threads the lock holder needs to commit.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from workplace_roleplay.adapters import sqlite_documents as rows
from workplace_roleplay.adapters.document_fields import (
    check_collection_path,
    check_document_path,
    check_update_fields,
    check_window,
)
from workplace_roleplay.adapters.sqlite_connections import Connection, TransactionConnections, backoff, translated
from workplace_roleplay.adapters.sqlite_query import compile_query
from workplace_roleplay.adapters.sqlite_transaction import SqliteTransaction
from workplace_roleplay.errors import Conflict, InvalidInput, StoreUnavailable
from workplace_roleplay.ports import Clock, DocumentSnapshot, Filter, JsonValue, SystemClock, Transaction

T = TypeVar("T")

_MAIN_BUSY_TIMEOUT_MS = 5000
# Expired rows are already invisible; deleting them is housekeeping, so it rides on a write at most once a
# minute, a batch at a time (no scheduler, and no write waits long behind it).
PURGE_INTERVAL_S = 60.0
PURGE_BATCH = 500

log = logging.getLogger(__name__)


class SqliteDocumentStore:
    """``DocumentStore`` over a SQLite file (the embedded default)."""

    backend = "sqlite"

    def __init__(
        self, path: Path, main: Connection, *, lock_timeout_s: float, clock: Clock, reader: sqlite3.Connection
    ) -> None:
        self.path = path
        self._main = main
        self._reader = reader  # used on the event loop only
        self._clock = clock  # decides which documents have expired (ports.EXPIRES_AT)
        self._main_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._pool = TransactionConnections(path, lock_timeout_s=lock_timeout_s)
        self._closed = False
        self._next_purge = 0.0  # monotonic time; the first write after opening purges

    @classmethod
    async def open(cls, path: Path, *, lock_timeout_s: float = 5.0, clock: Clock | None = None) -> SqliteDocumentStore:
        """Open (creating if needed) the store file and its parent directory; ``clock`` judges expiry."""

        def setup() -> tuple[sqlite3.Connection, sqlite3.Connection]:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = rows.connect(path, busy_timeout_ms=_MAIN_BUSY_TIMEOUT_MS)
            try:
                conn.executescript(rows.SCHEMA)
                # No busy wait on the loop: a busy read is handed to the worker thread (``_read``).
                return conn, rows.connect(path, busy_timeout_ms=0)
            except BaseException:
                conn.close()
                raise

        try:
            conn, reader = await asyncio.to_thread(setup)
        except sqlite3.Error as exc:
            raise translated(exc) from exc
        except OSError as exc:
            raise StoreUnavailable(f"cannot open sqlite store at {path}: {exc}") from exc
        return cls(path, Connection(conn), lock_timeout_s=lock_timeout_s, clock=clock or SystemClock(), reader=reader)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the main connection's worker thread, translating SQLite errors."""
        if self._closed:
            raise StoreUnavailable("sqlite store is closed")
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._main_thread, self._main.call, fn)
        except RuntimeError as exc:  # the pool is shut down: close() ran under us
            raise StoreUnavailable("sqlite store is closed") from exc
        try:
            return await future
        except sqlite3.Error as exc:
            raise translated(exc) from exc

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read on the event loop (no thread hop); on the worker thread when the file is busy."""
        if self._closed:
            raise StoreUnavailable("sqlite store is closed")
        try:
            return fn(self._reader)
        except sqlite3.Error as exc:
            if not rows.is_busy(exc):
                raise translated(exc) from exc
        return await self._run(fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], None]) -> None:
        """Run a write, then (when due) an opportunistic purge of expired rows on the same thread."""
        due = time.monotonic() >= self._next_purge
        if due:
            self._next_purge = time.monotonic() + PURGE_INTERVAL_S
        now = self._clock.now()

        def run(conn: sqlite3.Connection) -> None:
            fn(conn)
            if due:
                _purge_quietly(conn, now)

        await self._run(run)

    async def purge_expired(self, *, batch: int = PURGE_BATCH) -> int:
        """Delete up to ``batch`` expired documents now (they are invisible already); returns how many."""
        now = self._clock.now()
        return await self._run(lambda conn: rows.purge_expired(conn, now=now, batch=batch))

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        check_document_path(path)
        now = self._clock.now()
        return await self._read(lambda conn: rows.read(conn, path, now=now))

    async def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        if merge:
            await self._write(_atomically(rows.Write("merge", path, dict(data)), now=self._clock.now()))
        else:
            snapshot = dict(data)
            await self._write(lambda conn: rows.write(conn, path, snapshot))

    async def create(self, path: str, data: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        snapshot = dict(data)
        now = self._clock.now()
        await self._write(lambda conn: rows.insert_new(conn, path, snapshot, now=now))

    async def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        check_update_fields(fields)
        await self._write(_atomically(rows.Write("update", path, dict(fields)), now=self._clock.now()))

    async def delete(self, path: str) -> None:
        check_document_path(path)
        await self._write(lambda conn: rows.remove(conn, path))

    async def query(
        self,
        collection: str,
        *,
        where: Sequence[Filter] = (),
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[DocumentSnapshot]:
        check_collection_path(collection)
        check_window(limit, offset)
        sql, params = compile_query(collection, where, order_by, descending, limit, offset, now=self._clock.now())

        def fetch(conn: sqlite3.Connection) -> list[DocumentSnapshot]:
            return [DocumentSnapshot(path, rows.decode(data)) for path, data in conn.execute(sql, params)]

        return await self._read(fetch)

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]], *, attempts: int = 5) -> T:
        if attempts < 1:
            raise InvalidInput("a transaction needs at least one attempt")
        if self._closed:
            raise StoreUnavailable("sqlite store is closed")
        conn = await self._pool.checkout()
        reusable = False
        try:
            for attempt in range(attempts):
                now = self._clock.now()
                reads = _LockedReads(self._pool, conn, now=now)
                tx = SqliteTransaction(reads.read)
                try:
                    result = await fn(tx)
                    if reads.begun:
                        await self._pool.on(conn, functools.partial(_commit, writes=tx.writes, now=now))
                    else:  # no reads: take the lock and commit in one hop
                        await self._pool.begin(conn, functools.partial(_commit, writes=tx.writes, now=now))
                except sqlite3.Error as exc:
                    await self._pool.on(conn, _rollback)
                    if not rows.is_busy(exc):
                        raise translated(exc) from exc
                    # Another connection got in between (rare under BEGIN IMMEDIATE): run fn again.
                    await asyncio.sleep(backoff(attempt))
                    continue
                except BaseException:
                    await self._pool.on(conn, _rollback)
                    reusable = True  # rolled back cleanly: the connection can serve the next transaction
                    raise
                reusable = True
                return result
            reusable = True
            raise Conflict(f"sqlite transaction still contended after {attempts} attempts")
        except sqlite3.Error as exc:
            raise translated(exc) from exc
        finally:
            await self._pool.checkin(conn, reusable=reusable and not self._closed)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1 FROM documents LIMIT 1").fetchall())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        idle = self._pool.take_idle()

        def shutdown() -> None:
            self._main_thread.shutdown(wait=True)
            self._pool.shutdown()
            for conn in [*idle, self._main]:
                conn.discard()
            self._reader.close()

        await asyncio.to_thread(shutdown)


class _LockedReads:
    """A transaction's reads, on the event loop: the first takes the write lock (BEGIN IMMEDIATE) with it;
    only the commit (and its fsync) goes to a transaction thread."""

    def __init__(self, pool: TransactionConnections, conn: Connection, *, now: float) -> None:
        self.pool, self.conn, self.now = pool, conn, now
        self.begun = False

    async def read(self, path: str) -> dict[str, JsonValue] | None:
        now = self.now
        if self.begun:
            return self.conn.call(lambda db: rows.read(db, path, now=now))
        result = await self.pool.begin_here(self.conn, lambda db: rows.read(db, path, now=now))
        self.begun = True
        return result


def _atomically(change: rows.Write, *, now: float) -> Callable[[sqlite3.Connection], None]:
    """A read-modify-write outside a transaction, under the write lock so no other writer interleaves."""

    def run(conn: sqlite3.Connection) -> None:
        _commit(conn, [change], now=now, begin=True)

    return run


def _commit(conn: sqlite3.Connection, writes: Sequence[rows.Write], *, now: float, begin: bool = False) -> None:
    if begin:
        conn.execute("BEGIN IMMEDIATE")
    try:
        for change in writes:
            rows.apply(conn, change, now=now)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def _purge_quietly(conn: sqlite3.Connection, now: float) -> None:
    # Housekeeping must never fail the write it rode on (a busy database just waits for the next turn).
    try:
        rows.purge_expired(conn, now=now, batch=PURGE_BATCH)
    except sqlite3.Error as exc:
        log.warning("sqlite expiry purge skipped: %s", exc)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.rollback()
