"""Flask-Session filesystem sessions (cachelib ``FileSystemCache``) read from a directory, read-only.

A record is the file ``hexdigest(hash("session:" + sid))`` (sha256 with cachelib >= 0.16, md5 before; both
are tried) holding a 4-byte little-endian expiry (epoch seconds, 0 = never) and then the pickled session,
decoded by the restricted unpickler. cachelib's counter file and temporary files are not sessions.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import struct
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from workplace_roleplay.adapters.legacy_pickle import MAX_RECORD_BYTES, safe_unpickle
from workplace_roleplay.errors import LegacySessionInvalid
from workplace_roleplay.ports.legacy_session import LegacyRecord

_SID = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_FILE = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{64})$")
_UID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def parse_cachelib_file(raw: bytes) -> tuple[int, Any]:
    """(expiry epoch seconds, decoded value) of a cachelib file."""
    if len(raw) < 5:
        raise LegacySessionInvalid("legacy session file is truncated")
    (expiry,) = struct.unpack("<I", raw[:4])
    return expiry, safe_unpickle(raw[4:])


class FilesystemLegacySource:
    """A ``LegacySessionSource`` over a copy (or mount) of the legacy ``flask_session/`` directory."""

    kind = "filesystem"

    def __init__(self, directory: Path, *, key_prefix: str = "session:") -> None:
        self.directory = directory
        self.key_prefix = key_prefix

    def file_names(self, sid: str) -> tuple[str, str]:
        key = (self.key_prefix + sid).encode()
        return hashlib.sha256(key).hexdigest(), hashlib.md5(key, usedforsecurity=False).hexdigest()

    async def read(self, cookie_value: str, *, now: float) -> LegacyRecord | None:
        if not _SID.match(cookie_value):
            return None  # a signed (Redis-mode or Flask cookie) value is not a filesystem sid
        for name in self.file_names(cookie_value):
            record = await self.read_ref(name, now=now)
            if record is not None:
                return record
        return None

    async def refs(self) -> AsyncIterator[str]:
        names = await asyncio.to_thread(lambda: sorted(p.name for p in self.directory.iterdir() if p.is_file()))
        counter = set(self.file_names("")) | {
            hashlib.sha256(b"__wz_cache_count").hexdigest(),
            hashlib.md5(b"__wz_cache_count", usedforsecurity=False).hexdigest(),
        }
        for name in names:
            if _FILE.match(name) and name not in counter:
                yield name

    def key_of(self, ref: str) -> str:
        return ref

    async def read_ref(self, ref: str, *, now: float) -> LegacyRecord | None:
        if not _FILE.match(ref):
            return None
        raw = await asyncio.to_thread(self._read_bytes, self.directory / ref)
        if raw is None:
            return None
        expiry, value = parse_cachelib_file(raw)
        if expiry and expiry <= now:
            return None  # expired: cachelib would not return it either
        if not isinstance(value, dict):
            return None  # cachelib's own counter, not a session
        return LegacyRecord(key=ref, source=self.kind, data=value, expires_at=float(expiry) if expiry else None)

    @staticmethod
    def _read_bytes(path: Path) -> bytes | None:
        try:
            with path.open("rb") as f:
                raw = f.read(MAX_RECORD_BYTES + 5)
        except (FileNotFoundError, IsADirectoryError):
            return None
        if len(raw) > MAX_RECORD_BYTES + 4:
            raise LegacySessionInvalid("legacy session file is too large")
        return raw

    async def close(self) -> None:
        return None


class FilesystemUserData:
    """The legacy ``user_data/<user_id>.json`` gamification documents, read-only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def __call__(self, user_id: str) -> Mapping[str, Any] | None:
        if not _UID.match(user_id):
            return None
        path = self.directory / f"{user_id}.json"

        def load() -> Any:
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                return None
            except (ValueError, UnicodeDecodeError):
                raise LegacySessionInvalid(f"legacy user_data of {user_id} is not JSON") from None

        value = await asyncio.to_thread(load)
        return value if isinstance(value, dict) else None
