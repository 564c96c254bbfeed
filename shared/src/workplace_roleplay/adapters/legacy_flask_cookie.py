"""Verifies the legacy Flask signed ``session`` cookie (no Flask import: it costs ~125 ms of cold start).

Flask signs ``TaggedJSON`` with ``URLSafeTimedSerializer(salt="cookie-session", hmac, sha1)``
(notes/libraries.md §3). Tagged values are plain JSON objects (``{" t": [...]}``), so ``json`` reads
them well enough to find ``user_id``. Only the signed-cookie form is handled here; the legacy
server-side sessions (Flask-Session) plug in as another ``LegacySessionVerifier`` with the migration
issue.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping

from itsdangerous import BadSignature, URLSafeTimedSerializer

log = logging.getLogger("workplace_roleplay.security")


class FlaskSignedCookieVerifier:
    """A ``LegacySessionVerifier`` over Flask's default signed-cookie sessions."""

    def __init__(self, *, secret_key: str, cookie_name: str = "session", max_age_s: int = 31 * 24 * 3600) -> None:
        self.cookie_name = cookie_name
        self.max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(
            secret_key,
            salt="cookie-session",
            serializer=json,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    async def user_id(self, cookies: Mapping[str, str]) -> str | None:
        value = cookies.get(self.cookie_name)
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age_s)
        except BadSignature:  # also SignatureExpired
            return None
        except (ValueError, UnicodeDecodeError):
            return None
        user_id = data.get("user_id") if isinstance(data, dict) else None
        if not isinstance(user_id, str):
            return None
        try:
            # The legacy app mints uuid4 ids; anything else is not an identity we keep. The id itself is
            # returned byte for byte (docs/architecture.md, Data), not re-formatted.
            uuid.UUID(user_id)
        except ValueError:
            log.warning("legacy session with a malformed user_id", extra={"security_event": "legacy_bad_uid"})
            return None
        return user_id
