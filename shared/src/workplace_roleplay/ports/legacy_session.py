"""The legacy-session port: who does a legacy Flask session cookie say the caller is?

Used only behind the emergency switch ``FALLBACK_AUTH=flask_session``; the full legacy reader (server
side Flask-Session data) arrives with the migration issue and plugs in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class LegacySessionVerifier(Protocol):
    """Returns the legacy ``user_id`` of a valid session, None for absent, forged or expired ones."""

    async def user_id(self, cookies: Mapping[str, str]) -> str | None: ...
