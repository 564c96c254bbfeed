"""Core settings every service shares: environment, store, cache, logging."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workplace_roleplay.errors import ConfigurationError


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"

    @property
    def is_cloud(self) -> bool:
        return self in (Environment.DEV, Environment.STAGING, Environment.PROD)


# Values that mark a secret as "not really set"; refused outside local/test.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "local-dev-secret", "test"})


class CoreSettings(BaseSettings):
    """Settings of the runtime every service shares. Precedence: env vars > `.env` file > defaults."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Names (env var spelling) of settings each cloud environment must provide; subclasses extend.
    required_in_cloud: ClassVar[tuple[str, ...]] = ("GOOGLE_CLOUD_PROJECT", "REDIS_URL")

    ENV: Environment = Field(Environment.LOCAL, description="Runtime environment: local, test, dev, staging, prod.")
    SERVICE_NAME: str = Field("", description="Service name in logs and metrics (defaults to the service's own).")
    # Cloud Run sets K_REVISION on every instance; nothing else would label a deployed revision.
    SERVICE_VERSION: str = Field(
        "dev",
        validation_alias=AliasChoices("SERVICE_VERSION", "K_REVISION"),
        description="Release label shown by /health; unset: Cloud Run's K_REVISION (revision name), else dev.",
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Minimum log level.")
    LOG_JSON: bool = Field(True, description="JSON logs with Cloud Logging fields (false: plain text).")

    GOOGLE_CLOUD_PROJECT: str = Field("", description="GCP project id (Firestore, trace correlation).")
    STORE_BACKEND: Literal["sqlite", "firestore"] = Field(
        "sqlite", description="Document store: sqlite (embedded default) or firestore."
    )
    DATA_DIR: Path = Field(Path(".data"), description="Directory of the embedded SQLite store.")
    FIRESTORE_DATABASE: str = Field("(default)", description="Firestore database id.")
    FIRESTORE_EMULATOR_HOST: str = Field("", description="host:port of a Firestore emulator (tests, stack).")

    REDIS_URL: SecretStr | None = Field(
        None, description="Redis URL (rediss:// with AUTH in the cloud). Unset: in-process cache."
    )
    REDIS_TIMEOUT_S: float = Field(0.25, gt=0, le=5, description="Redis connect and socket timeout, seconds.")
    REDIS_MODE: Literal["standalone", "cluster"] = Field(
        "standalone",
        description="Redis topology: standalone (one primary, e.g. Memorystore STANDARD_HA) or cluster "
        "(Memorystore for Redis Cluster; REDIS_URL names any one node or the discovery endpoint).",
    )
    REDIS_IAM_AUTH: bool = Field(
        False,
        description="AUTH with the runtime service account's access token (Memorystore IAM auth) instead of "
        "a password in REDIS_URL.",
    )

    MAX_REQUEST_BYTES: int = Field(64 * 1024, gt=0, description="Largest accepted request body, bytes.")
    ADMISSION_MAX_IN_FLIGHT: int = Field(
        60,
        ge=0,
        description="Model-calling requests (streamed turns) one process runs at once; beyond it a fast 503 with "
        "Retry-After (ADR 0027). 0: no limit.",
    )
    ADMISSION_RETRY_AFTER_S: int = Field(
        2, ge=1, le=60, description="Retry-After of the 503 answered beyond ADMISSION_MAX_IN_FLIGHT, seconds."
    )

    @property
    def cache_backend(self) -> Literal["redis", "memory"]:
        return "redis" if self.REDIS_URL is not None and self.REDIS_URL.get_secret_value() else "memory"

    @model_validator(mode="after")
    def _check_cloud_requirements(self) -> CoreSettings:
        if not self.ENV.is_cloud:
            return self
        missing = [name for name in self.required_in_cloud if not _is_set(getattr(self, name, None))]
        if missing:
            raise ConfigurationError(f"missing required setting(s) for ENV={self.ENV.value}: {', '.join(missing)}")
        if self.STORE_BACKEND != "firestore":
            raise ConfigurationError(f"STORE_BACKEND must be 'firestore' when ENV={self.ENV.value}")
        placeholders = [
            name
            for name, value in self
            if isinstance(value, SecretStr) and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        ]
        if placeholders:
            raise ConfigurationError(
                f"placeholder secret(s) refused for ENV={self.ENV.value}: {', '.join(placeholders)}"
            )
        return self


def _is_set(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    if isinstance(value, str | Path):
        return bool(str(value))
    return True
