"""Memorystore IAM authentication: AUTH with the runtime service account's short-lived access token.

Memorystore for Redis Cluster has no shared password; with ``AUTH_MODE_IAM_AUTH`` a client sends an
OAuth access token of an account holding ``roles/redis.dbConnectionUser``. redis-py asks the
credential provider on every new connection, so the token is cached and refreshed (off the event
loop: google-auth's refresh is blocking HTTP to the metadata server) a few minutes before it expires.
A refresh failure raises a ``ConnectionError`` like an unreachable server, so the breaker and the
"Redis down never fails a request" behaviour cover it too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any, Final, Protocol

from redis.credentials import CredentialProvider
from redis.exceptions import ConnectionError as RedisConnectionError

SCOPES: Final = ("https://www.googleapis.com/auth/cloud-platform",)
REFRESH_MARGIN: Final = dt.timedelta(minutes=5)


class TokenSource(Protocol):
    """The part of ``google.auth.credentials.Credentials`` used here."""

    token: str | None
    expiry: dt.datetime | None

    def refresh(self, request: Any) -> None: ...


def default_token_source() -> tuple[TokenSource, Any]:
    """Application Default Credentials (the Cloud Run service account) and a transport to refresh them."""
    import google.auth
    from google.auth.transport.requests import Request

    credentials, _ = google.auth.default(scopes=list(SCOPES))
    return credentials, Request()


class IamTokenCredentials(CredentialProvider):
    """Gives redis-py ``(token,)`` for AUTH, refreshing the cached access token before it expires."""

    def __init__(self, source: TokenSource | None = None, request: Any = None) -> None:
        self._source = source
        self._request = request
        self._lock = threading.Lock()

    def _fresh(self) -> bool:
        source = self._source
        if source is None or not source.token:
            return False
        if source.expiry is None:
            return True
        # google-auth keeps expiry as naive UTC.
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return source.expiry - REFRESH_MARGIN > now

    def get_credentials(self) -> tuple[str]:
        with self._lock:
            if not self._fresh():
                try:
                    if self._source is None:
                        self._source, self._request = default_token_source()
                    self._source.refresh(self._request)
                except Exception as exc:  # google-auth raises several families; all mean "cannot connect"
                    raise RedisConnectionError(f"no IAM token for Redis: {type(exc).__name__}") from exc
            assert self._source is not None
            token = self._source.token
        if not token:
            raise RedisConnectionError("no IAM token for Redis: the credentials gave none")
        return (token,)

    async def get_credentials_async(self) -> tuple[str]:
        if self._fresh():
            return self.get_credentials()
        return await asyncio.to_thread(self.get_credentials)
