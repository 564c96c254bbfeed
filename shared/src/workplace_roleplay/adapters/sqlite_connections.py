"""The SQLite store's connections: one connection per thread at a time, and the pool of connections
transactions borrow (each runs on a small thread pool and waits for the write lock on the event loop)."""

from __future__ import annotations

import asyncio
import functools
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from workplace_roleplay.adapters import sqlite_documents as rows
from workplace_roleplay.errors import StoreUnavailable

T = TypeVar("T")

IDLE_TX_CONNECTIONS = 4


class Connection:
    """A connection plus the lock that keeps two threads from using it at once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self.lock:
            return fn(self.conn)

    def discard(self) -> None:
        """Roll back anything open and close (waits for a statement still running on another thread)."""
        with self.lock:
            try:
                if self.conn.in_transaction:
                    self.conn.rollback()
            finally:
                self.conn.close()


def translated(exc: sqlite3.Error) -> StoreUnavailable:
    if rows.is_busy(exc):
        return StoreUnavailable(f"sqlite database is locked: {exc}")
    return StoreUnavailable(f"sqlite error: {exc}")


class TransactionConnections:
    """Connections for transactions: borrowed, used on the transaction threads, returned or closed."""

    def __init__(self, path: Path, *, lock_timeout_s: float) -> None:
        self.path = path
        self._lock_timeout_s = lock_timeout_s
        self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sqlite-tx")
        self._idle: list[Connection] = []

    async def on(self, conn: Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._threads, conn.call, fn)
        except RuntimeError as exc:  # the pool is shut down: close() ran under us
            raise StoreUnavailable("sqlite store is closed") from exc
        return await future

    async def begin_here(self, conn: Connection, then: Callable[[sqlite3.Connection], T]) -> T:
        """``begin`` on the event loop itself, for a read: taking the lock never waits inside SQLite
        (busy timeout 0; a taken lock is waited for with async sleeps) and a read under our own write lock
        never waits either, so a thread hop would only add its cost (ADR 0030)."""
        deadline = time.monotonic() + self._lock_timeout_s
        attempt = 0
        while True:
            try:
                return conn.call(functools.partial(_begin_then, then))
            except _LockBusy as busy:
                if time.monotonic() >= deadline:
                    raise translated(busy.error) from busy.error
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def begin(self, conn: Connection, then: Callable[[sqlite3.Connection], T]) -> T:
        """Take the write lock and run ``then`` under it in the same thread hop, waiting for the lock with
        async sleeps (not a blocked thread) up to the lock timeout."""
        deadline = time.monotonic() + self._lock_timeout_s
        attempt = 0
        while True:
            try:
                return await self.on(conn, functools.partial(_begin_then, then))
            except _LockBusy as busy:
                if time.monotonic() >= deadline:
                    # Not a sqlite3.Error: the transaction gives up instead of running its function again.
                    raise translated(busy.error) from busy.error
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def checkout(self) -> Connection:
        if self._idle:
            return self._idle.pop()

        def opened() -> sqlite3.Connection:
            # No busy wait inside SQLite: begin() waits for the write lock on the event loop instead.
            return rows.connect(self.path, busy_timeout_ms=0)

        try:
            return Connection(await asyncio.to_thread(opened))
        except sqlite3.Error as exc:
            raise translated(exc) from exc

    async def checkin(self, conn: Connection, *, reusable: bool) -> None:
        # A connection left mid-statement (cancelled while a thread still ran it) is closed, not reused.
        pool_has_room = len(self._idle) < IDLE_TX_CONNECTIONS
        if reusable and pool_has_room and not conn.conn.in_transaction:
            self._idle.append(conn)
            return
        await asyncio.shield(asyncio.to_thread(conn.discard))

    def take_idle(self) -> list[Connection]:
        """Empty the pool (the store is closing): the caller discards them."""
        idle, self._idle = self._idle, []
        return idle

    def shutdown(self) -> None:
        """Wait for the transaction threads to finish (blocking: call it off the event loop)."""
        self._threads.shutdown(wait=True)


class _LockBusy(Exception):
    """BEGIN IMMEDIATE found the write lock taken (nothing ran): wait and try again."""

    def __init__(self, error: sqlite3.Error) -> None:
        super().__init__(str(error))
        self.error = error


def _begin_then(then: Callable[[sqlite3.Connection], T], db: sqlite3.Connection) -> T:
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        if rows.is_busy(exc):
            raise _LockBusy(exc) from exc
        raise
    return then(db)


def backoff(attempt: int) -> float:
    """Jittered exponential backoff from ~1 ms to 50 ms, so waiting writers do not retry in lockstep."""
    return random.uniform(0.5, 1.0) * min(0.05, 0.001 * 2.0**attempt)
