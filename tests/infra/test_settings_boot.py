"""Each service's own settings class accepts what Terraform gives it in every environment (the startup check that
would otherwise first run on Cloud Run), and refuses to start when a secret Terraform should provide is missing."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.infra import render
from tests.infra.hcl import Tree
from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.settings import SERVICE_SETTINGS


def _secret_values(env: dict[str, str]) -> dict[str, str]:
    """Well-formed stand-ins for the values humans add to Secret Manager (keys named by the env's kids)."""
    return {
        "JWT_KEYS": json.dumps({env["JWT_ACTIVE_KID"]: secrets.token_urlsafe(48)}),
        "ALE_KEYS": json.dumps({env["ALE_PRIMARY_KID"]: base64.b64encode(secrets.token_bytes(32)).decode()}),
        "CSRF_SECRET": secrets.token_urlsafe(48),
        "LEGACY_SECRET_KEY": secrets.token_urlsafe(48),
        "REDIS_URL": "rediss://:auth@10.0.0.3:6378/0",
        "GEMINI_API_KEY": secrets.token_urlsafe(30),
        "GEMINI_API_KEY_FALLBACK": secrets.token_urlsafe(30),
    }


def _service_kwargs(real_tree: Tree, env_dir: Path, service: str) -> dict[str, Any]:
    config = render.render_config(real_tree, env_dir)
    env: dict[str, str] = config["env"]
    values = _secret_values(env)
    return {
        **env,
        **{name: values[name] for name in config["secret_settings"]},
        "SERVICE_NAME": service,
    }


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_service_starts_with_what_terraform_gives_it(real_tree: Tree, environment: str) -> None:
    env_dir = real_tree.root / "environments" / environment
    for service, cls in SERVICE_SETTINGS.items():
        settings = cls(_env_file=None, **_service_kwargs(real_tree, env_dir, service))
        assert settings.ENV.value == environment
        assert settings.STORE_BACKEND == "firestore"
        assert settings.cache_backend == "redis"


@pytest.mark.parametrize("missing", ["CSRF_SECRET", "JWT_KEYS", "REDIS_URL", "JWT_ACTIVE_KID"])
def test_a_service_refuses_to_start_without_a_required_setting(real_tree: Tree, missing: str) -> None:
    kwargs = _service_kwargs(real_tree, real_tree.root / "environments/prod", "chat")
    del kwargs[missing]
    with pytest.raises(ConfigurationError, match=missing):
        SERVICE_SETTINGS["chat"](_env_file=None, **kwargs)
