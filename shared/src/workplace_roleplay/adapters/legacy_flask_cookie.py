"""Flask's default signed-cookie session, read without importing Flask (it costs ~125 ms of cold start).

Flask signs ``TaggedJSON`` with ``URLSafeTimedSerializer(salt="cookie-session", hmac, sha1)``
(notes/libraries.md §3). The legacy session holds only JSON-like builtins, so plain ``json`` reads it
(a tagged value would stay a ``{" t": ...}`` map, which ``check_plain`` accepts as data). Expiry is the
signature's age against ``max_age_s`` (Flask's ``PERMANENT_SESSION_LIFETIME``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from workplace_roleplay.adapters.legacy_pickle import check_plain
from workplace_roleplay.errors import LegacySessionInvalid
from workplace_roleplay.ports.legacy_session import LegacyRecord


class FlaskCookieLegacySource:
    """A ``LegacySessionSource`` whose sessions are the cookies themselves (nothing server-side)."""

    kind = "cookie"

    def __init__(self, *, secret_key: str, max_age_s: int = 31 * 24 * 3600) -> None:
        self.max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(
            secret_key,
            salt="cookie-session",
            serializer=json,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    async def read(self, cookie_value: str, *, now: float) -> LegacyRecord | None:
        if not cookie_value or len(cookie_value) > 8192:
            return None
        try:
            data, signed_at = self._serializer.loads(cookie_value, max_age=self.max_age_s, return_timestamp=True)
        except SignatureExpired:
            return None
        except BadSignature:
            raise LegacySessionInvalid("legacy session cookie signature does not verify") from None
        except (ValueError, UnicodeDecodeError):
            raise LegacySessionInvalid("legacy session cookie is not readable") from None
        data = check_plain(data)
        if not isinstance(data, dict):
            raise LegacySessionInvalid("legacy session cookie holds no session map")
        uid = data.get("user_id")
        # The cookie changes on every response; the identity does not: it names the migration record.
        basis = f"user:{uid}" if isinstance(uid, str) and uid else f"cookie:{cookie_value}"
        return LegacyRecord(
            key=hashlib.sha256(basis.encode()).hexdigest(),
            source=self.kind,
            data=data,
            expires_at=signed_at.timestamp() + self.max_age_s,
        )

    async def refs(self) -> AsyncIterator[str]:
        raise LegacySessionInvalid("signed-cookie sessions live in browsers: there is nothing to list")
        yield ""  # pragma: no cover (makes this an async generator)

    def key_of(self, ref: str) -> str:
        raise LegacySessionInvalid("signed-cookie sessions cannot be listed")

    async def read_ref(self, ref: str, *, now: float) -> LegacyRecord | None:
        return None

    async def close(self) -> None:
        return None
