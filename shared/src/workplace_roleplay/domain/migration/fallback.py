"""``FALLBACK_AUTH=flask_session``: the legacy session identifies the learner, through the real readers.

Read-only: the session is read by the configured ``LegacySessionSource`` (filesystem, Redis or signed
cookie) and only its ``user_id`` is used, byte for byte. Nothing is migrated or written.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from workplace_roleplay.errors import AppError
from workplace_roleplay.ports import Clock
from workplace_roleplay.ports.legacy_session import LegacySessionSource

log = logging.getLogger("workplace_roleplay.security")


def valid_user_id(value: object) -> str | None:
    """``value`` when it is a uuid as the legacy app mints them (returned unchanged), else None."""
    if not isinstance(value, str):
        return None
    try:
        uuid.UUID(value)
    except ValueError:
        log.warning("legacy session with a malformed user_id", extra={"security_event": "legacy_bad_uid"})
        return None
    return value


class SourceVerifier:
    """A ``LegacySessionVerifier`` over any legacy session source."""

    def __init__(self, source: LegacySessionSource, clock: Clock, *, cookie_name: str = "session") -> None:
        self.source = source
        self.clock = clock
        self.cookie_name = cookie_name

    async def user_id(self, cookies: Mapping[str, str]) -> str | None:
        value = cookies.get(self.cookie_name)
        if not value:
            return None
        try:
            record = await self.source.read(value, now=self.clock.now())
        except AppError as exc:  # tampered, unreadable, or the legacy store is down: not an identity
            log.info("legacy session refused: %s", exc.code, extra={"security_event": "legacy_session_refused"})
            return None
        return valid_user_id(record.data.get("user_id")) if record is not None else None
