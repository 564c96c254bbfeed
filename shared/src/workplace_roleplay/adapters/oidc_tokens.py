"""Verifies the OIDC tokens Cloud Tasks attaches to worker calls (Google-signed RS256 JWTs).

Checked: signature against the issuer's JWKS, ``exp``/``iat``, the audience (the worker URL), the
issuer, and that the token belongs to the tasks invoker service account (``email``, ``email_verified``).
The JWKS is fetched (and cached by PyJWT) in a thread: PyJWT's client is synchronous.
"""

from __future__ import annotations

import asyncio
from typing import Any

import jwt

from workplace_roleplay.errors import InvalidToken, PermissionDenied, TokenExpired


class OidcVerifier:
    def __init__(
        self, *, jwks_url: str, audience: str, issuers: tuple[str, ...], email: str, leeway_s: int = 30
    ) -> None:
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        self.audience = audience.rstrip("/")
        self.issuers = issuers
        self.email = email
        self.leeway_s = leeway_s

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid invoker token; ``InvalidToken``/``TokenExpired``/``PermissionDenied`` else."""
        try:
            key = await asyncio.to_thread(self.jwks.get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=list(self.issuers),
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("OIDC token expired") from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(f"OIDC token refused: {type(exc).__name__}") from None
        if claims.get("email") != self.email or claims.get("email_verified") is not True:
            raise PermissionDenied("OIDC token of another account than the tasks invoker")
        return claims
