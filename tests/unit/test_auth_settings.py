"""Auth settings: zero-config locally, real keys demanded in the cloud, malformed rings refused."""

from __future__ import annotations

import base64
import json
import os

import pytest

from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.settings import ChatSettings, Environment, MigrateSessionSettings

CLOUD_BASE = {
    "ENV": "prod",
    "GOOGLE_CLOUD_PROJECT": "wr-prod",
    "REDIS_URL": "rediss://:a-long-redis-password@10.0.0.3:6378/0",
    "STORE_BACKEND": "firestore",
}
GOOD_AUTH = {
    "JWT_KEYS": json.dumps({"k1": "x" * 40}),
    "JWT_ACTIVE_KID": "k1",
    "ALE_KEYS": json.dumps({"a1": base64.b64encode(os.urandom(32)).decode()}),
    "ALE_PRIMARY_KID": "a1",
    "CSRF_SECRET": "c" * 40,
}


def _cloud(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name in ("JWT_KEYS", "JWT_ACTIVE_KID", "ALE_KEYS", "ALE_PRIMARY_KID", "CSRF_SECRET", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_local_mode_runs_without_keys_and_relaxes_secure() -> None:
    settings = ChatSettings()
    kid, keys = settings.jwt_key_ring()
    assert kid in keys
    assert len(keys[kid]) >= 32
    primary, ale = settings.ale_key_ring()
    assert len(ale[primary]) == 32
    assert settings.cookie_secure is False
    # Every service of `make run` must derive the same keys, or tokens would not cross services.
    assert MigrateSessionSettings().jwt_key_ring() == settings.jwt_key_ring()


def test_test_env_keeps_cookies_secure() -> None:
    assert ChatSettings(ENV=Environment.TEST).cookie_secure is True


def test_cloud_names_every_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _cloud(monkeypatch, CLOUD_BASE)
    with pytest.raises(ConfigurationError) as caught:
        ChatSettings()
    for name in ("JWT_KEYS", "JWT_ACTIVE_KID", "ALE_KEYS", "ALE_PRIMARY_KID", "CSRF_SECRET"):
        assert name in str(caught.value)


def test_cloud_accepts_real_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    _cloud(monkeypatch, {**CLOUD_BASE, **GOOD_AUTH})
    settings = ChatSettings()
    assert settings.cookie_secure is True
    assert settings.jwt_key_ring()[0] == "k1"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"JWT_KEYS": json.dumps({"k1": "changeme"})}, "at least 32 bytes"),
        ({"JWT_KEYS": "not json"}, "JSON object"),
        ({"JWT_ACTIVE_KID": "k9"}, "JWT_ACTIVE_KID"),
        ({"ALE_KEYS": json.dumps({"a1": base64.b64encode(b"short").decode()})}, "32 bytes"),
        ({"ALE_PRIMARY_KID": "zz"}, "ALE_PRIMARY_KID"),
        ({"CSRF_SECRET": "changeme"}, "CSRF_SECRET"),
        ({"COOKIE_SECURE": "false"}, "COOKIE_SECURE"),
        ({"FALLBACK_AUTH": "flask_session"}, "LEGACY_SECRET_KEY"),
        ({"JWT_ALGORITHM": "RS256"}, "RSA PEM"),
    ],
)
def test_cloud_refuses_placeholder_or_malformed_keys(
    monkeypatch: pytest.MonkeyPatch, override: dict[str, str], message: str
) -> None:
    _cloud(monkeypatch, {**CLOUD_BASE, **GOOD_AUTH, **override})
    with pytest.raises(ConfigurationError, match=message):
        ChatSettings()


def test_rate_rules_are_parsed_and_validated() -> None:
    settings = ChatSettings(RATE_LIMIT_MODEL_USER="5/10")
    assert settings.rate_rule("model", "user") == (5, 10)
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_AUTH_IP"):
        ChatSettings(RATE_LIMIT_AUTH_IP="lots")


def test_urlsafe_and_standard_base64_ale_keys_both_work() -> None:
    key = bytes(range(251, 255)) * 8  # contains bytes that differ between the two alphabets
    for encoded in (base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode().rstrip("=")):
        settings = ChatSettings(ALE_KEYS=json.dumps({"a": encoded}), ALE_PRIMARY_KID="a")
        assert settings.ale_key_ring() == ("a", {"a": key})
