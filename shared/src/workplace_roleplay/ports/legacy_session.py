"""The legacy-session ports: reading the legacy Flask app's sessions.

``LegacySessionSource`` reads a whole session (server-side Flask-Session files or Redis values, or Flask's
own signed cookie) for the migration; ``LegacySessionVerifier`` answers only "who is this?" for the
emergency switch ``FALLBACK_AUTH=flask_session``. Both are read-only: the legacy record is never modified.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class LegacyRecord:
    """One legacy session as stored.

    ``key`` identifies the stored record (a hex hash, never the sid itself): the file name of a
    filesystem session, ``sha256`` of the Redis key, or ``sha256`` of the user id of a cookie session. It
    names the ``legacy_migrations/{key}`` document, so a session is migrated once whichever way it arrives.
    """

    key: str
    source: str  # "filesystem" | "redis" | "cookie"
    data: dict[str, Any] = field(default_factory=dict)
    expires_at: float | None = None  # epoch seconds; None: no expiry known


class LegacySessionSource(Protocol):
    """Where the legacy sessions live (chosen by ``LEGACY_SESSION_SOURCE``)."""

    kind: str

    async def read(self, cookie_value: str, *, now: float) -> LegacyRecord | None:
        """The session a ``session`` cookie value names; None when absent or expired.

        Raises ``LegacySessionInvalid`` for a tampered cookie or a record that cannot be read safely.
        """
        ...

    def refs(self) -> AsyncIterator[str]:
        """Every stored session of the store (file names, Redis keys), for bulk migration.

        Raises ``LegacySessionInvalid`` for a source that cannot be listed (signed cookies live in browsers).
        """
        ...

    async def read_ref(self, ref: str, *, now: float) -> LegacyRecord | None:
        """The session stored under ``ref`` (one of ``refs``); None when gone or expired, or not a session."""
        ...

    def key_of(self, ref: str) -> str:
        """The ``LegacyRecord.key`` the session stored under ``ref`` has (without reading it)."""
        ...

    async def close(self) -> None: ...


class LegacySessionVerifier(Protocol):
    """Returns the legacy ``user_id`` of a valid session, None for absent, forged or expired ones."""

    async def user_id(self, cookies: Mapping[str, str]) -> str | None: ...


class LegacyUserData(Protocol):
    """The legacy server-side gamification document of a user (``user_data/<user_id>.json``), if kept."""

    async def __call__(self, user_id: str) -> Mapping[str, Any] | None: ...
