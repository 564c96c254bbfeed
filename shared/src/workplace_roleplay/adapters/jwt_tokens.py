"""Access tokens as JWTs (PyJWT): HS256 or RS256 by settings, ``kid`` header, a ring of keys.

PyJWT does no I/O, but it is a third-party wire format, so it stays out of the domain behind the
``AccessTokenCodec`` port. Time claims are checked against our ``Clock`` (not PyJWT's own clock)
so tests and benchmarks can move time; PyJWT still checks their presence and types.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from workplace_roleplay.errors import ConfigurationError, InvalidToken, TokenExpired
from workplace_roleplay.ports.tokens import AccessClaims

Algorithm = Literal["HS256", "RS256"]
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "jti")
_MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class _Key:
    verify: bytes | RSAPublicKey
    sign: bytes | RSAPrivateKey | None  # None: a retired RSA key kept only to verify (public PEM)


class JwtAccessTokens:
    """The ``AccessTokenCodec`` adapter."""

    def __init__(
        self,
        *,
        algorithm: Algorithm,
        active_kid: str,
        keys: Mapping[str, str],
        issuer: str,
        audience: str,
        ttl_s: int,
        leeway_s: int,
    ) -> None:
        self.algorithm: Algorithm = algorithm
        self.active_kid = active_kid
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s
        self.leeway_s = leeway_s
        self._keys = {kid: _load_key(algorithm, kid, value) for kid, value in keys.items()}
        active = self._keys.get(active_kid)
        if active is None or active.sign is None:
            raise ConfigurationError(f"JWT_ACTIVE_KID {active_kid!r} has no signing key in JWT_KEYS")
        self._signing_key = active.sign

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def public_jwks(self) -> dict[str, Any]:
        """The verification keys as a JWK set (RS256 only; HMAC secrets are never published)."""
        if self.algorithm != "RS256":
            return {"keys": []}
        keys = []
        for kid, key in self._keys.items():
            assert isinstance(key.verify, RSAPublicKey)
            jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.verify, as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def issue(self, *, user_id: str, family_id: str, now: float) -> tuple[str, AccessClaims]:
        iat = int(now)
        claims = AccessClaims(
            user_id=user_id,
            token_id=secrets.token_urlsafe(12),
            family_id=family_id,
            issued_at=iat,
            expires_at=iat + self.ttl_s,
            key_id=self.active_kid,
        )
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "iat": iat,
            "exp": claims.expires_at,
            "jti": claims.token_id,
            "fid": family_id,
        }
        token = jwt.encode(payload, self._signing_key, algorithm=self.algorithm, headers={"kid": self.active_kid})
        return token, claims

    def verify(self, token: str, *, now: float) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        kid = header.get("kid")
        # The algorithm is pinned by configuration, never read from the header ("alg: none", HS/RS confusion).
        if header.get("alg") != self.algorithm:
            raise InvalidToken("unexpected algorithm")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown key id")
        try:
            payload = jwt.decode(
                token,
                key.verify,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as exc:  # InvalidKeyError is not an InvalidTokenError: catch the base
            raise InvalidToken(type(exc).__name__) from None
        return self._check_times(payload, kid, now)  # type: ignore[arg-type]

    def _check_times(self, payload: dict[str, Any], kid: str, now: float) -> AccessClaims:
        exp, iat = payload.get("exp"), payload.get("iat")
        nbf = payload.get("nbf", iat)
        if not (_is_int(exp) and _is_int(iat) and _is_int(nbf)):
            raise InvalidToken("time claims must be integers")
        if iat > now + self.leeway_s or nbf > now + self.leeway_s:
            raise InvalidToken("token is not valid yet")
        if exp <= now - self.leeway_s:
            raise TokenExpired("token expired")
        if exp - iat > self.ttl_s + self.leeway_s:
            raise InvalidToken("token lifetime longer than configured")
        fid = payload.get("fid", "")
        if not isinstance(fid, str):
            raise InvalidToken("fid must be a string")
        return AccessClaims(
            user_id=str(payload["sub"]),
            token_id=str(payload["jti"]),
            family_id=fid,
            issued_at=iat,
            expires_at=exp,
            key_id=kid,
        )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _load_key(algorithm: Algorithm, kid: str, value: str) -> _Key:
    if algorithm == "HS256":
        secret = value.encode()
        return _Key(verify=secret, sign=secret)
    pem = value.strip().encode()
    try:
        if b"PRIVATE KEY" in pem:
            private = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(private, RSAPrivateKey):
                raise ConfigurationError(f"JWT_KEYS[{kid!r}] is not an RSA private key")
            _check_size(kid, private.key_size)
            return _Key(verify=private.public_key(), sign=private)
        public = serialization.load_pem_public_key(pem)
    except ValueError:
        raise ConfigurationError(f"JWT_KEYS[{kid!r}] is not a readable PEM key") from None
    if not isinstance(public, RSAPublicKey):
        raise ConfigurationError(f"JWT_KEYS[{kid!r}] is not an RSA public key")
    _check_size(kid, public.key_size)
    return _Key(verify=public, sign=None)


def _check_size(kid: str, bits: int) -> None:
    if bits < _MIN_RSA_BITS:
        raise ConfigurationError(f"JWT_KEYS[{kid!r}] is a {bits}-bit RSA key; at least 2048 bits are required")
