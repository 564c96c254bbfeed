"""The access-token port: sign and verify short-lived bearer tokens (JWT in the adapter).

Verification checks signature, algorithm, key id, issuer, audience and every time claim, and
raises ``InvalidToken`` (``TokenExpired`` when only the time is wrong), never returns bad claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says."""

    user_id: str  # ``sub``
    token_id: str  # ``jti``
    family_id: str  # the refresh-token family (sign-in) this access token belongs to
    issued_at: int  # ``iat``
    expires_at: int  # ``exp``
    key_id: str  # ``kid`` of the header


class AccessTokenCodec(Protocol):
    """Issues and verifies access tokens with a ring of keys (one signs, all verify)."""

    ttl_s: int

    def issue(self, *, user_id: str, family_id: str, now: float) -> tuple[str, AccessClaims]:
        """A signed token and its claims, valid from ``now`` for ``ttl_s`` seconds."""
        ...

    def verify(self, token: str, *, now: float) -> AccessClaims:
        """The claims of a valid token at ``now``; raises ``InvalidToken``/``TokenExpired`` otherwise."""
        ...

    def public_jwks(self) -> dict[str, Any]:
        """The verification keys as a JWK set (empty for symmetric keys, never published)."""
        ...
