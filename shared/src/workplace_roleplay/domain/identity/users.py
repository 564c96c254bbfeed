"""Identity: who the learner is (anonymous or legacy ``user_id``) and their signed-in sessions.

Pure over ports: the document store (``users/{user_id}``, refresh tokens), the access-token codec and
the clock. The web layer turns a ``SignIn`` into cookies or JSON.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from workplace_roleplay.domain.identity.refresh_tokens import RefreshTokens, Rotation
from workplace_roleplay.errors import AlreadyExists, NotAuthenticated, NotFound
from workplace_roleplay.ports import Clock, DocumentStore, JsonValue
from workplace_roleplay.ports.tokens import AccessClaims, AccessTokenCodec

AuthMethod = Literal["bearer", "cookie", "legacy_session"]
USERS = "users"


@dataclass(frozen=True, slots=True)
class User:
    """The caller of a request, as the shared auth dependency establishes it."""

    user_id: str
    auth: AuthMethod
    family_id: str = ""  # the sign-in (refresh-token family); empty for a legacy session


@dataclass(frozen=True, slots=True)
class SignIn:
    """Credentials handed to a client after sign-in or refresh."""

    user_id: str
    family_id: str
    access_token: str
    access_expires_at: int
    refresh_token: str | None  # None: a refresh race; the client keeps the refresh token it has
    refresh_expires_at: int | None
    created: bool = False  # a new user was created


@dataclass(frozen=True, slots=True)
class UserProfile:
    """The stored identity document (no personal data: the app never asks for any)."""

    user_id: str
    kind: Literal["anonymous", "legacy"]
    created_at: float
    last_seen_at: float


class IdentityService:
    """Anonymous sign-in, refresh, logout and the profile of the signed-in learner."""

    def __init__(self, *, store: DocumentStore, tokens: AccessTokenCodec, refresh: RefreshTokens, clock: Clock) -> None:
        self.store = store
        self.tokens = tokens
        self.refresh_tokens = refresh
        self.clock = clock

    async def sign_in_anonymously(self) -> SignIn:
        """Create a new learner (uuid4, like the legacy ids) and sign them in."""
        now = self.clock.now()
        user_id = str(uuid.uuid4())
        await self.store.create(f"{USERS}/{user_id}", _profile_doc(user_id, "anonymous", now))
        rotation = await self.refresh_tokens.start_family(user_id)
        return self._sign_in(rotation, created=True)

    async def sign_in_existing(self, user_id: str, *, kind: Literal["anonymous", "legacy"] = "legacy") -> SignIn:
        """Sign in a known identity (a migrated legacy user keeps their ``user_id`` byte for byte)."""
        now = self.clock.now()
        created = False
        try:
            await self.store.create(f"{USERS}/{user_id}", _profile_doc(user_id, kind, now))
            created = True
        except AlreadyExists:
            await self.store.update(f"{USERS}/{user_id}", {"last_seen_at": now})
        rotation = await self.refresh_tokens.start_family(user_id)
        return self._sign_in(rotation, created=created)

    async def refresh(self, refresh_token: str) -> SignIn:
        """Rotate the refresh token and issue a new access token."""
        rotation = await self.refresh_tokens.rotate(refresh_token)
        try:
            await self.store.update(f"{USERS}/{rotation.user_id}", {"last_seen_at": self.clock.now()})
        except NotFound:
            await self.refresh_tokens.revoke(rotation.family_id, reason="user_deleted")
            raise
        return self._sign_in(rotation)

    async def resume_or_sign_in(self, refresh_token: str | None) -> SignIn:
        """A browser arriving without a valid access token: continue its sign-in when the refresh token
        still works, otherwise start a new anonymous learner (no friction, docs/architecture.md, Identity)."""
        if refresh_token:
            try:
                return await self.refresh(refresh_token)
            except NotAuthenticated:
                pass
        return await self.sign_in_anonymously()

    async def logout(self, *, refresh_token: str = "", family_id: str = "") -> None:
        """Revoke the sign-in named by a refresh token or by a family id (idempotent)."""
        if refresh_token:
            found = await self.refresh_tokens.family_of(refresh_token)
            if found is not None:
                family_id = found[1]
        if family_id:
            await self.refresh_tokens.revoke(family_id, reason="logout")

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token (raises ``InvalidToken``/``TokenExpired``)."""
        return self.tokens.verify(token, now=self.clock.now())

    async def profile(self, user_id: str) -> UserProfile:
        doc = await self.store.get(f"{USERS}/{user_id}")
        if doc is None:
            raise NotFound(f"user {user_id}")
        kind = doc.get("kind")
        return UserProfile(
            user_id=user_id,
            kind="legacy" if kind == "legacy" else "anonymous",
            created_at=float(doc.get("created_at") or 0),
            last_seen_at=float(doc.get("last_seen_at") or 0),
        )

    def _sign_in(self, rotation: Rotation, *, created: bool = False) -> SignIn:
        token, claims = self.tokens.issue(user_id=rotation.user_id, family_id=rotation.family_id, now=self.clock.now())
        return SignIn(
            user_id=rotation.user_id,
            family_id=rotation.family_id,
            access_token=token,
            access_expires_at=claims.expires_at,
            refresh_token=rotation.refresh_token,
            refresh_expires_at=rotation.expires_at,
            created=created,
        )


def _profile_doc(user_id: str, kind: str, now: float) -> dict[str, JsonValue]:
    return {"user_id": user_id, "kind": kind, "created_at": now, "last_seen_at": now}
