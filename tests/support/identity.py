"""An identity service over a given store, with a hand-moved clock (security tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.clock import ManualClock
from workplace_roleplay.adapters.jwt_tokens import JwtAccessTokens
from workplace_roleplay.domain.identity.refresh_tokens import RefreshTokens
from workplace_roleplay.domain.identity.users import IdentityService
from workplace_roleplay.ports import DocumentStore

TEST_SECRET = "identity-tests-signing-secret-32-bytes-long"


@dataclass
class IdentityKit:
    store: DocumentStore
    clock: ManualClock
    identity: IdentityService
    grace_s: int

    async def dump(self) -> dict[str, Any]:
        """Every identity document, to prove what is (not) stored."""
        out: dict[str, Any] = {}
        for collection in ("users", "refresh_tokens", "refresh_families"):
            for snap in await self.store.query(collection):
                out[snap.path] = snap.data
        return out


def identity_kit(store: DocumentStore, *, grace_s: int = 10, clock: ManualClock | None = None) -> IdentityKit:
    clock = clock or ManualClock()
    tokens = JwtAccessTokens(
        algorithm="HS256",
        active_kid="t1",
        keys={"t1": TEST_SECRET},
        issuer="wr-test",
        audience="wr-test-api",
        ttl_s=900,
        leeway_s=30,
    )
    refresh = RefreshTokens(store, clock, ttl_s=7 * 24 * 3600, reuse_grace_s=grace_s)
    return IdentityKit(store, clock, IdentityService(store=store, tokens=tokens, refresh=refresh, clock=clock), grace_s)
