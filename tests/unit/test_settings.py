"""Settings: validated at startup, missing production settings named, placeholder secrets refused."""

from __future__ import annotations

import pytest

from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.settings import ChatSettings, Environment, MigrateSessionSettings

# Real-looking auth keys, so the cloud tests below reach the check they are about.
CLOUD_AUTH = {
    "JWT_KEYS": '{"k1": "' + "k" * 40 + '"}',
    "JWT_ACTIVE_KID": "k1",
    "ALE_KEYS": '{"a1": "' + "A" * 43 + '="}',
    "ALE_PRIMARY_KID": "a1",
    "CSRF_SECRET": "c" * 40,
}


def test_local_defaults_need_no_configuration() -> None:
    settings = ChatSettings()
    assert settings.ENV is Environment.LOCAL
    assert settings.STORE_BACKEND == "sqlite"
    assert settings.cache_backend == "memory"


def test_missing_production_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("STORE_BACKEND", "firestore")
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        MigrateSessionSettings()
    assert "GOOGLE_CLOUD_PROJECT" in str(caught.value)
    assert "REDIS_URL" in str(caught.value)


def test_cloud_refuses_the_embedded_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "staging")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "wr-staging")
    monkeypatch.setenv("REDIS_URL", "rediss://:s3cr3t-long-password@10.0.0.3:6378/0")
    monkeypatch.setenv("STORE_BACKEND", "sqlite")
    for name, value in CLOUD_AUTH.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="STORE_BACKEND"):
        ChatSettings()


def test_secrets_are_not_printed() -> None:
    settings = ChatSettings(REDIS_URL="redis://:hunter2@127.0.0.1:6379/0")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_service_version_falls_back_to_the_cloud_run_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVICE_VERSION", raising=False)
    monkeypatch.delenv("K_REVISION", raising=False)
    assert ChatSettings().SERVICE_VERSION == "dev"
    # Cloud Run sets K_REVISION on every instance; the revision name is then the release label.
    monkeypatch.setenv("K_REVISION", "chat-00042-abc")
    assert ChatSettings().SERVICE_VERSION == "chat-00042-abc"
    # An explicit label still wins (the local stack names its processes this way).
    monkeypatch.setenv("SERVICE_VERSION", "chat-candidate")
    assert ChatSettings().SERVICE_VERSION == "chat-candidate"
    assert ChatSettings(SERVICE_VERSION="v1.2.3").SERVICE_VERSION == "v1.2.3"
