"""Flask-Session Redis sessions (the legacy app's configured-but-broken Redis mode), read-only.

Key ``<prefix><sid>`` (prefix ``workplace-roleplay:`` in the legacy app), value msgpack (Flask-Session
0.7+'s default); a value that is not msgpack is refused, never unpickled. The cookie is
``<sid>.<signature>`` (``SESSION_USE_SIGNER=True``): itsdangerous ``Signer(secret, salt="flask-session",
key_derivation="hmac")``, SHA-1; a bad signature is refused before Redis is asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from itsdangerous import BadSignature, Signer
from redis.asyncio import Redis
from redis.exceptions import RedisError

from workplace_roleplay.adapters.legacy_pickle import safe_msgpack
from workplace_roleplay.errors import ConfigurationError, DependencyUnavailable, LegacySessionInvalid
from workplace_roleplay.ports.legacy_session import LegacyRecord


class RedisLegacySource:
    """A ``LegacySessionSource`` over the legacy Redis database."""

    kind = "redis"

    def __init__(
        self, client: Redis, *, secret_key: str | None, key_prefix: str = "workplace-roleplay:", use_signer: bool = True
    ) -> None:
        if use_signer and not secret_key:
            raise ConfigurationError("LEGACY_SECRET_KEY is needed to verify signed legacy Redis session cookies")
        self.client = client
        self.key_prefix = key_prefix
        self.signer = Signer(secret_key or "", salt="flask-session", key_derivation="hmac") if use_signer else None

    @classmethod
    def from_url(cls, url: str, **kwargs: object) -> RedisLegacySource:
        # Bytes in, bytes out: the legacy app's decode_responses=True is exactly what broke its own reads.
        client = Redis.from_url(url, decode_responses=False, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, **kwargs)  # type: ignore[arg-type]

    def sid_of(self, cookie_value: str) -> str:
        if self.signer is None:
            return cookie_value
        try:
            return self.signer.unsign(cookie_value).decode()
        except (BadSignature, UnicodeDecodeError):
            raise LegacySessionInvalid("legacy session cookie signature does not verify") from None

    async def read(self, cookie_value: str, *, now: float) -> LegacyRecord | None:
        if not cookie_value or len(cookie_value) > 256:
            return None
        return await self.read_ref(self.key_prefix + self.sid_of(cookie_value), now=now)

    async def refs(self) -> AsyncIterator[str]:
        try:
            async for key in self.client.scan_iter(match=f"{self.key_prefix}*", count=500):
                yield key.decode() if isinstance(key, bytes) else str(key)
        except RedisError as exc:
            raise DependencyUnavailable(f"legacy Redis: {type(exc).__name__}") from None

    def key_of(self, ref: str) -> str:
        return hashlib.sha256(ref.encode()).hexdigest()

    async def read_ref(self, ref: str, *, now: float) -> LegacyRecord | None:
        if not ref.startswith(self.key_prefix):
            return None
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(ref)
                pipe.pttl(ref)
                raw, ttl = await pipe.execute()
        except RedisError as exc:
            raise DependencyUnavailable(f"legacy Redis: {type(exc).__name__}") from None
        if raw is None:
            return None  # absent or expired (Redis expires the key itself)
        value = safe_msgpack(bytes(raw))
        if not isinstance(value, dict):
            raise LegacySessionInvalid("legacy Redis value is not a session map")
        expires = now + ttl / 1000 if isinstance(ttl, int) and ttl > 0 else None
        return LegacyRecord(key=self.key_of(ref), source=self.kind, data=value, expires_at=expires)

    async def close(self) -> None:
        await self.client.aclose()
