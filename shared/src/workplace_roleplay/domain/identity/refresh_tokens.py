"""Refresh tokens: opaque, stored only as a hash, rotated on every use, revoked by family.

Documents (docs/architecture.md, Data)::

    refresh_tokens/{sha256(token)}   family, user_id, issued_at, expires_at, status (active|rotated|revoked),
                                     rotated_at, replaced_by (hash of the successor)
    refresh_families/{family_id}     user_id, created_at, revoked_at, revoked_reason, expires_at

``expires_at`` is the store's reserved expiry field (ports.EXPIRES_AT): a token expires with its own
lifetime, a family with its newest token's, and Firestore's TTL policy deletes both after that (SQLite
hides them at once). Expiry is still checked here, since TTL deletion may lag by a day.

One family is one sign-in. Presenting a token that was already rotated means two parties hold it
(the theft signal of RFC 6819 §5.2.2.3 / OAuth 2.0 Security BCP §4.14), so the whole family dies,
including its newest token. The exception is a presentation within ``reuse_grace_s`` of the
rotation: parallel requests of one browser tab race on the same cookie, and the loser gets only a
new access token for the family (no new refresh token), so a legitimate user is not signed out.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Literal

from workplace_roleplay.errors import AppError, InvalidToken, SessionRevoked, TokenExpired
from workplace_roleplay.ports import EXPIRES_AT, Clock, DocumentStore, Filter, JsonValue, Transaction
from workplace_roleplay.telemetry import SECURITY_EVENTS

security_log = logging.getLogger("workplace_roleplay.security")

TOKENS = "refresh_tokens"
FAMILIES = "refresh_families"
_TOKEN_BYTES = 32
PURGE_ONE_IN = 200


def token_hash(token: str) -> str:
    """The document id of a refresh token (a 256-bit random value needs no salt or stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Rotation:
    """The outcome of presenting a refresh token."""

    user_id: str
    family_id: str
    refresh_token: str | None  # None after a grace-window race: keep the cookie the winner set
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    kind: Literal["rotated", "raced", "reused", "revoked", "expired", "unknown"]
    user_id: str = ""
    family_id: str = ""


def security_event(event: str, **fields: str) -> None:
    """Log and count a security event (no message text, no personal data beyond pseudonymous ids)."""
    SECURITY_EVENTS.labels(event=event).inc()
    security_log.warning("security event: %s", event, extra={"security_event": event, **fields})


class RefreshTokens:
    """The refresh-token repository and its rotation rules."""

    def __init__(self, store: DocumentStore, clock: Clock, *, ttl_s: int, reuse_grace_s: int) -> None:
        self.store = store
        self.clock = clock
        self.ttl_s = ttl_s
        self.reuse_grace_s = reuse_grace_s

    async def start_family(self, user_id: str) -> Rotation:
        """A new sign-in: a new family with its first token."""
        now = self.clock.now()
        family_id = secrets.token_urlsafe(16)
        token, expires_at = secrets.token_urlsafe(_TOKEN_BYTES), int(now) + self.ttl_s
        await self.store.create(
            f"{FAMILIES}/{family_id}",
            {
                "user_id": user_id,
                "created_at": now,
                "revoked_at": None,
                "revoked_reason": None,
                EXPIRES_AT: expires_at,
            },
        )
        await self.store.create(f"{TOKENS}/{token_hash(token)}", self._token_doc(user_id, family_id, now))
        return Rotation(user_id, family_id, token, expires_at)

    async def rotate(self, token: str) -> Rotation:
        """Exchange ``token`` for its successor; reuse of a rotated token kills the family."""
        if not token or len(token) > 256:
            raise InvalidToken("malformed refresh token")
        old_id = token_hash(token)
        successor = secrets.token_urlsafe(_TOKEN_BYTES)
        now = self.clock.now()

        async def attempt(tx: Transaction) -> _Outcome:
            doc = await tx.get(f"{TOKENS}/{old_id}")
            if doc is None:
                return _Outcome("unknown")
            user_id, family_id = str(doc.get("user_id", "")), str(doc.get("family", ""))
            family = await tx.get(f"{FAMILIES}/{family_id}")
            if family is None or family.get("revoked_at") is not None or doc.get("status") == "revoked":
                return _Outcome("revoked", user_id, family_id)
            if float(doc.get(EXPIRES_AT) or 0) <= now:
                return _Outcome("expired", user_id, family_id)
            if doc.get("status") == "rotated":
                if now - float(doc.get("rotated_at") or 0) <= self.reuse_grace_s:
                    return _Outcome("raced", user_id, family_id)
                tx.update(f"{FAMILIES}/{family_id}", {"revoked_at": now, "revoked_reason": "reuse"})
                return _Outcome("reused", user_id, family_id)
            new_id = token_hash(successor)
            tx.update(f"{TOKENS}/{old_id}", {"status": "rotated", "rotated_at": now, "replaced_by": new_id})
            tx.set(f"{TOKENS}/{new_id}", self._token_doc(user_id, family_id, now))
            # The family lives as long as its newest token (then its TTL deletes it).
            tx.update(f"{FAMILIES}/{family_id}", {EXPIRES_AT: int(now) + self.ttl_s})
            return _Outcome("rotated", user_id, family_id)

        outcome = await self.store.run_transaction(attempt)
        if outcome.kind == "rotated":
            await self._maybe_purge()
            return Rotation(outcome.user_id, outcome.family_id, successor, int(now) + self.ttl_s)
        if outcome.kind == "raced":
            return Rotation(outcome.user_id, outcome.family_id, None, None)
        if outcome.kind == "reused":
            security_event("refresh_token_reuse", user_id=outcome.user_id, family_id=outcome.family_id)
            raise SessionRevoked("refresh token reused after rotation; the sign-in was revoked")
        if outcome.kind == "revoked":
            security_event("revoked_refresh_token_presented", family_id=outcome.family_id)
            raise SessionRevoked("refresh token of a revoked sign-in")
        if outcome.kind == "expired":
            raise TokenExpired("refresh token expired")
        raise InvalidToken("unknown refresh token")

    async def revoke(self, family_id: str, *, reason: str) -> None:
        """Kill every token of a family (logout, admin action). Idempotent."""
        path = f"{FAMILIES}/{family_id}"
        if await self.store.get(path) is None:
            return
        await self.store.update(path, {"revoked_at": self.clock.now(), "revoked_reason": reason})

    async def family_of(self, token: str) -> tuple[str, str] | None:
        """(user_id, family_id) of a known refresh token, whatever its state."""
        doc = await self.store.get(f"{TOKENS}/{token_hash(token)}") if token else None
        if doc is None:
            return None
        return str(doc.get("user_id", "")), str(doc.get("family", ""))

    async def is_revoked(self, family_id: str) -> bool:
        family = await self.store.get(f"{FAMILIES}/{family_id}")
        return family is None or family.get("revoked_at") is not None

    async def purge_expired(self, *, batch: int = 500) -> int:
        """Delete up to ``batch`` refresh-token documents past their expiry; returns how many (run it
        periodically: every refresh writes one document). Expired tokens are refused anyway. Firestore's
        TTL policy and the SQLite store's own purge remove them too; this clears what TTL has not reached."""
        expired = await self.store.query(TOKENS, where=[Filter(EXPIRES_AT, "<", int(self.clock.now()))], limit=batch)
        for snapshot in expired:
            await self.store.delete(snapshot.path)
        return len(expired)

    async def _maybe_purge(self) -> None:
        # Housekeeping rides on refreshes (about one in PURGE_ONE_IN), so no scheduler is needed and the
        # cost is spread thin; a failure here must never fail the refresh itself.
        if secrets.randbelow(PURGE_ONE_IN) != 0:
            return
        try:
            await self.purge_expired(batch=100)
        except AppError as exc:
            security_log.warning("refresh-token purge failed", extra={"error_code": exc.code})

    def _token_doc(self, user_id: str, family_id: str, now: float) -> dict[str, JsonValue]:
        return {
            "user_id": user_id,
            "family": family_id,
            "issued_at": now,
            EXPIRES_AT: int(now) + self.ttl_s,
            "status": "active",
            "rotated_at": None,
            "replaced_by": None,
        }
