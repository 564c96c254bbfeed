"""Identity and web-security settings (tokens, CSRF, cookies, rate limits, encryption keys).

Key rings are JSON objects in one secret each (Secret Manager fills them in the cloud)::

    JWT_KEYS='{"2026-11": "<32+ byte secret or RSA PEM>", "2026-05": "..."}'   JWT_ACTIVE_KID=2026-11
    ALE_KEYS='{"k2": "<base64 of 32 bytes>", "k1": "..."}'                      ALE_PRIMARY_KID=k2

In ``local`` and ``test`` unset keys are derived from a fixed label so ``make run`` needs no
configuration and every service of the one process agrees on them; those keys are public by
construction, so the cloud environments refuse to start without real ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.settings.base import PLACEHOLDER_SECRETS, Environment
from workplace_roleplay.settings.networks import IPNetwork, parse_networks

RouteClass = Literal["default", "model", "auth"]
RateScope = Literal["user", "ip"]

LOCAL_KID = "local-dev"
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_MIN_HMAC_KEY_BYTES = 32
_ALE_KEY_BYTES = 32


def _local_secret(purpose: str) -> bytes:
    # Deterministic so the four services of `make run` (and restarts) share them; never used in the cloud.
    return hashlib.sha256(f"workplace-roleplay local development key: {purpose}".encode()).digest()


class AuthSettings(BaseSettings):
    """Identity and security settings every service needs to verify callers."""

    # Composed into ``required_in_cloud`` by the service settings; the dev keys are refused there.
    auth_required_in_cloud: ClassVar[tuple[str, ...]] = (
        "JWT_KEYS",
        "JWT_ACTIVE_KID",
        "ALE_KEYS",
        "ALE_PRIMARY_KID",
        "CSRF_SECRET",
    )

    JWT_ISSUER: str = Field("workplace-roleplay", description="`iss` of access tokens (checked on verify).")
    JWT_AUDIENCE: str = Field("workplace-roleplay-api", description="`aud` of access tokens.")
    JWT_ALGORITHM: Literal["HS256", "RS256"] = Field(
        "HS256", description="Access-token algorithm; verification accepts only this one."
    )
    JWT_ACTIVE_KID: str = Field("", description="Key id that signs new access tokens (must be in JWT_KEYS).")
    JWT_KEYS: SecretStr | None = Field(
        None,
        description='JSON {"kid": "secret or PEM"}: HS256 secrets (>= 32 bytes) or RSA PEMs '
        "(private keys sign; public keys only verify). Every listed key verifies until removed.",
    )
    ACCESS_TOKEN_TTL_S: int = Field(15 * 60, ge=60, le=3600, description="Access-token lifetime, seconds.")
    REFRESH_TOKEN_TTL_S: int = Field(
        7 * 24 * 3600, ge=3600, le=90 * 24 * 3600, description="Refresh-token lifetime, seconds."
    )
    JWT_LEEWAY_S: int = Field(
        30, ge=0, le=120, description="Clock skew tolerated on exp/iat/nbf between instances, seconds."
    )
    REFRESH_REUSE_GRACE_S: int = Field(
        10,
        ge=0,
        le=60,
        description="A rotated refresh token presented again within this many seconds is treated as a "
        "concurrent-request race (new access token, no new refresh token) instead of theft.",
    )

    ACCESS_COOKIE_NAME: str = Field("wr_access", description="Cookie carrying the access JWT.")
    REFRESH_COOKIE_NAME: str = Field("wr_refresh", description="Cookie carrying the opaque refresh token.")
    CSRF_COOKIE_NAME: str = Field("wr_csrf", description="Double-submit CSRF cookie (readable by scripts).")
    COOKIE_SECURE: bool | None = Field(
        None, description="Secure cookie flag; unset means on, except ENV=local (plain http). Off only local."
    )
    COOKIE_DOMAIN: str = Field("", description="Cookie Domain attribute; empty keeps cookies host-only.")
    CSRF_SECRET: SecretStr | None = Field(None, description="HMAC key binding CSRF tokens to the user.")

    RATE_LIMIT_ENABLED: bool = Field(True, description="Apply the per-route-class limits below.")
    # Per learner is the main guard; per IP only has to stop floods, and one office NAT address carries
    # ~200 learners (ADR 0027 has the arithmetic).
    RATE_LIMIT_DEFAULT_USER: str = Field("120/60", description="Requests/seconds per user, ordinary routes.")
    RATE_LIMIT_DEFAULT_IP: str = Field(
        "6000/60", description="Requests/seconds per client IP, ordinary routes (200 learners x 30/min)."
    )
    RATE_LIMIT_MODEL_USER: str = Field("20/60", description="Requests/seconds per user, model-calling routes.")
    MODEL_DAILY_BUDGET_USER: int = Field(
        400,
        ge=0,
        le=100000,
        description="Model-calling requests and watch lines per learner per Asia/Tokyo day (0: no budget); "
        "over it: 429 daily_budget_exceeded until midnight JST.",
    )
    RATE_LIMIT_MODEL_IP: str = Field(
        "1200/60", description="Requests/seconds per client IP, model-calling (200 learners x 6 turns/min)."
    )
    RATE_LIMIT_AUTH_USER: str = Field("30/60", description="Requests/seconds per user, sign-in and refresh.")
    RATE_LIMIT_AUTH_IP: str = Field(
        "300/60",
        description="Requests/seconds per client IP, sign-in/refresh (a 200-learner class signing in at once "
        "behind one NAT address).",
    )
    TRUSTED_PROXIES: str | None = Field(
        None,
        description="Comma-separated IPs/CIDRs of the proxies whose X-Forwarded-For entries are believed, or * "
        "(any peer: only the load balancer can reach a cloud service). Unset: * in dev/staging/prod, none "
        "otherwise (make run: the socket peer is the client; make stack sets its nginx's loopback).",
    )
    FORWARDED_CLIENT_POSITION: int = Field(
        2,
        ge=1,
        le=5,
        description="When the peer is a trusted proxy: the client is this entry from the right of "
        "X-Forwarded-For (2 behind the Google external Application Load Balancer, which appends "
        "'<client>, <lb>'; 1 behind one nginx).",
    )

    ALE_KEYS: SecretStr | None = Field(
        None, description='JSON {"kid": "<base64 of 32 bytes>"} of field-encryption keys; all decrypt.'
    )
    ALE_PRIMARY_KID: str = Field("", description="Key id that encrypts new data (must be in ALE_KEYS).")

    FALLBACK_AUTH: Literal["off", "flask_session"] = Field(
        "off", description="Emergency switch: accept a valid legacy Flask session as identity."
    )
    LEGACY_SECRET_KEY: SecretStr | None = Field(
        None, description="The legacy Flask SECRET_KEY (verifies its signed session cookie)."
    )
    LEGACY_SESSION_COOKIE: str = Field("session", description="Name of the legacy Flask session cookie.")
    LEGACY_SESSION_MAX_AGE_S: int = Field(
        31 * 24 * 3600, gt=0, description="Oldest legacy session accepted (Flask's PERMANENT_SESSION_LIFETIME)."
    )

    # ---- derived views -------------------------------------------------------------------------

    @property
    def _env(self) -> Environment:
        env = getattr(self, "ENV", Environment.LOCAL)
        return env if isinstance(env, Environment) else Environment(str(env))

    @property
    def cookie_secure(self) -> bool:
        """The Secure flag actually set: relaxed only in the local mode."""
        if self.COOKIE_SECURE is None:
            return self._env is not Environment.LOCAL
        return self.COOKIE_SECURE

    def jwt_key_ring(self) -> tuple[str, dict[str, str]]:
        """(active kid, {kid: secret or PEM}); local/test derive an HS256 key when none is set."""
        keys = _json_ring(self.JWT_KEYS, "JWT_KEYS")
        if not keys and not self._env.is_cloud and self.JWT_ALGORITHM == "HS256":
            return LOCAL_KID, {LOCAL_KID: _local_secret("jwt").hex()}
        return self.JWT_ACTIVE_KID, keys

    def ale_key_ring(self) -> tuple[str, dict[str, bytes]]:
        """(primary kid, {kid: 32-byte key}); local/test derive a key when none is set."""
        raw = _json_ring(self.ALE_KEYS, "ALE_KEYS")
        if not raw and not self._env.is_cloud:
            return LOCAL_KID, {LOCAL_KID: _local_secret("ale")}
        return self.ALE_PRIMARY_KID, {kid: _decode_ale_key(kid, value) for kid, value in raw.items()}

    def csrf_key(self) -> bytes:
        if self.CSRF_SECRET is not None and self.CSRF_SECRET.get_secret_value():
            return self.CSRF_SECRET.get_secret_value().encode()
        return _local_secret("csrf")

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        """The networks of proxies whose X-Forwarded-For entries count (empty: believe no header)."""
        value = self.TRUSTED_PROXIES
        if value is None:
            value = "*" if self._env.is_cloud else ""
        return parse_networks(value, "TRUSTED_PROXIES")

    def rate_rule(self, route_class: RouteClass, scope: RateScope) -> tuple[int, int]:
        """(limit, window seconds) for a route class and a key scope."""
        value: str = getattr(self, f"RATE_LIMIT_{route_class.upper()}_{scope.upper()}")
        return _parse_rate(value, f"RATE_LIMIT_{route_class.upper()}_{scope.upper()}")

    # ---- validation ----------------------------------------------------------------------------

    @model_validator(mode="after")
    def _check_auth(self) -> AuthSettings:
        env = self._env
        for route_class in ("default", "model", "auth"):
            for scope in ("user", "ip"):
                self.rate_rule(route_class, scope)
        self.trusted_proxy_networks  # noqa: B018 (parsed once at startup, so a typo stops it)
        if self.COOKIE_SECURE is False and env is not Environment.LOCAL:
            raise ConfigurationError(f"COOKIE_SECURE=false is allowed only when ENV=local (ENV={env.value})")
        if env.is_cloud:
            required = (*getattr(self, "required_in_cloud", ()), *self.auth_required_in_cloud)
            missing = [name for name in dict.fromkeys(required) if not _has_value(getattr(self, name, None))]
            if self.FALLBACK_AUTH == "flask_session" and not _has_value(self.LEGACY_SECRET_KEY):
                missing.append("LEGACY_SECRET_KEY")
            if missing:
                raise ConfigurationError(f"missing required setting(s) for ENV={env.value}: {', '.join(missing)}")
            csrf = self.CSRF_SECRET.get_secret_value() if self.CSRF_SECRET else ""
            if len(csrf.encode()) < _MIN_HMAC_KEY_BYTES:
                raise ConfigurationError("CSRF_SECRET must be at least 32 bytes")
        active, jwt_keys = self.jwt_key_ring()
        if jwt_keys:
            self._check_jwt_keys(active, jwt_keys)
        elif self.JWT_ALGORITHM == "RS256":
            raise ConfigurationError("JWT_KEYS (RSA PEMs) must be set when JWT_ALGORITHM=RS256")
        primary, ale_keys = self.ale_key_ring()
        if ale_keys and primary not in ale_keys:
            raise ConfigurationError(f"ALE_PRIMARY_KID {primary!r} is not a key id of ALE_KEYS")
        return self

    def _check_jwt_keys(self, active: str, keys: dict[str, str]) -> None:
        if active not in keys:
            raise ConfigurationError(f"JWT_ACTIVE_KID {active!r} is not a key id of JWT_KEYS")
        for kid, value in keys.items():
            is_pem = value.lstrip().startswith("-----BEGIN")
            if self.JWT_ALGORITHM == "HS256":
                if is_pem:
                    raise ConfigurationError(f"JWT_KEYS[{kid!r}] is a PEM but JWT_ALGORITHM=HS256")
                if value.strip().lower() in PLACEHOLDER_SECRETS or len(value.encode()) < _MIN_HMAC_KEY_BYTES:
                    raise ConfigurationError(f"JWT_KEYS[{kid!r}] must be a secret of at least 32 bytes")
            elif not is_pem:
                raise ConfigurationError(f"JWT_KEYS[{kid!r}] must be an RSA PEM when JWT_ALGORITHM=RS256")


def _has_value(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value().strip())
    return value is not None and value != ""


def _json_ring(secret: SecretStr | None, name: str) -> dict[str, str]:
    if secret is None or not secret.get_secret_value().strip():
        return {}
    try:
        parsed = json.loads(secret.get_secret_value())
    except json.JSONDecodeError:
        raise ConfigurationError(f'{name} must be a JSON object {{"kid": "key"}}') from None
    if not isinstance(parsed, dict) or not parsed:
        raise ConfigurationError(f'{name} must be a non-empty JSON object {{"kid": "key"}}')
    if not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in parsed.items()):
        raise ConfigurationError(f"{name}: every key id and key must be a non-empty string")
    return dict(parsed)


def _decode_ale_key(kid: str, value: str) -> bytes:
    text = value.strip().replace("-", "+").replace("_", "/")  # accept both base64 alphabets
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"ALE_KEYS[{kid!r}] is not base64") from None
    if len(key) != _ALE_KEY_BYTES:
        raise ConfigurationError(f"ALE_KEYS[{kid!r}] must decode to 32 bytes (AES-256), got {len(key)}")
    return key


def _parse_rate(value: str, name: str) -> tuple[int, int]:
    match = _RATE.match(value)
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ConfigurationError(f"{name} must look like '<requests>/<seconds>', e.g. '20/60' (got {value!r})")
    return int(match.group(1)), int(match.group(2))
