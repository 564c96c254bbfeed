"""Documents as rows of one SQLite table: connections, schema, JSON encoding and the four kinds of write.

Everything here is synchronous and runs on a store's worker threads, never on the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from workplace_roleplay.adapters.document_fields import (
    apply_update,
    check_json_values,
    merge_documents,
    normalize_expiry,
    parent_collection,
)
from workplace_roleplay.errors import AlreadyExists, InvalidInput, NotFound
from workplace_roleplay.ports import JsonValue

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    path       TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    data       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS documents_by_collection ON documents (collection, path);
CREATE INDEX IF NOT EXISTS documents_by_expiry ON documents (json_extract(data, '$."expires_at"'))
    WHERE json_extract(data, '$."expires_at"') IS NOT NULL;
"""

# The reserved expiry field (ports.EXPIRES_AT): a row whose expires_at has passed is gone for every read,
# as if Firestore's TTL policy had deleted it; purge_expired removes such rows for real. Bind: now.
EXPIRED_SQL = """coalesce(json_extract(data, '$."expires_at"') <= ?, 0)"""
LIVE_SQL = f"NOT {EXPIRED_SQL}"
_READ_SQL = f"SELECT data FROM documents WHERE path = ? AND {LIVE_SQL}"  # noqa: S608 (fixed fragments only)
# An expired row counts as absent: create replaces it (the upsert's WHERE); a live one refuses.
_INSERT_NEW_SQL = (
    "INSERT INTO documents (path, collection, data) VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE "
    """SET data = excluded.data WHERE coalesce(json_extract(data, '$."expires_at"') <= ?, 0)"""
)

# SQLite's primary result codes for "another connection holds the lock"; extended codes keep them in the low byte.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def is_busy(exc: sqlite3.Error) -> bool:
    """True when ``exc`` means the database is locked by another connection (worth retrying)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


def connect(path: Path, *, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (we issue BEGIN ourselves) with WAL journaling."""
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        # WAL lets readers run beside the one writer, across connections and processes.
        _enable_wal(conn, wait_s=max(busy_timeout_ms / 1000, 5.0))
        # FULL syncs the WAL on every commit: a committed write survives a power cut, not only a crash.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = OFF")
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection, *, wait_s: float) -> None:
    # Switching a new file to WAL fails at once with "database is locked" (no busy handler) while another
    # connection switches it too, which happens when the four services of `make run` open it together.
    deadline = time.monotonic() + wait_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


def encode(data: Mapping[str, JsonValue]) -> str:
    """Canonical JSON text (sorted keys, compact), so equal maps have equal text for ``==`` filters."""
    check_json_values(data)
    data = normalize_expiry(data)
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"document values must be JSON-compatible: {exc}") from exc


def decode(text: str) -> dict[str, JsonValue]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise InvalidInput("stored document is not a JSON object")
    return value


def read(conn: sqlite3.Connection, path: str, *, now: float) -> dict[str, JsonValue] | None:
    """The live document at ``path`` (None when absent or expired at ``now``)."""
    row = conn.execute(_READ_SQL, (path, now)).fetchone()
    return decode(row[0]) if row is not None else None


def write(conn: sqlite3.Connection, path: str, data: Mapping[str, JsonValue]) -> None:
    conn.execute(
        "INSERT INTO documents (path, collection, data) VALUES (?, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET data = excluded.data",
        (path, parent_collection(path), encode(data)),
    )


def insert_new(conn: sqlite3.Connection, path: str, data: Mapping[str, JsonValue], *, now: float) -> None:
    inserted = conn.execute(_INSERT_NEW_SQL, (path, parent_collection(path), encode(data), now))
    if inserted.rowcount == 0:
        raise AlreadyExists(f"document already exists: {path}")


def purge_expired(conn: sqlite3.Connection, *, now: float, batch: int) -> int:
    """Delete up to ``batch`` expired rows (any collection); returns how many went."""
    deleted = conn.execute(
        "DELETE FROM documents WHERE path IN (SELECT path FROM documents "
        """WHERE json_extract(data, '$."expires_at"') <= ? LIMIT ?)""",
        (now, batch),
    )
    return deleted.rowcount


def remove(conn: sqlite3.Connection, path: str) -> None:
    conn.execute("DELETE FROM documents WHERE path = ?", (path,))


@dataclass(frozen=True, slots=True)
class Write:
    """One buffered write of a transaction (or a single read-modify-write outside one)."""

    kind: Literal["set", "merge", "update", "delete"]
    path: str
    data: dict[str, Any]


def apply(conn: sqlite3.Connection, change: Write, *, now: float) -> None:
    """Apply one write; merge and update read first (expired counts as absent), so call inside BEGIN IMMEDIATE."""
    if change.kind == "set":
        write(conn, change.path, change.data)
    elif change.kind == "delete":
        remove(conn, change.path)
    elif change.kind == "merge":
        write(conn, change.path, merge_documents(read(conn, change.path, now=now) or {}, change.data))
    else:
        current = read(conn, change.path, now=now)
        if current is None:
            raise NotFound(f"no document to update: {change.path}")
        write(conn, change.path, apply_update(current, change.data))
