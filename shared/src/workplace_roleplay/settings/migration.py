"""Legacy-session migration and background-task settings (docs/migration.md, ADR 0016, ADR 0017)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from workplace_roleplay.errors import ConfigurationError


class MigrationSettings(BaseSettings):
    """Where legacy sessions are read from, and how background tasks reach the worker."""

    LEGACY_SESSION_SOURCE: str = Field(
        "",
        description="Legacy sessions: 'filesystem:<dir>' (Flask-Session files), 'redis://…' (Flask-Session "
        "Redis), 'cookie' (Flask signed cookie); empty: no migration.",
    )
    LEGACY_REDIS_KEY_PREFIX: str = Field(
        "workplace-roleplay:", description="Key prefix of legacy Redis sessions (the legacy app's)."
    )
    LEGACY_REDIS_USE_SIGNER: bool = Field(True, description="Legacy Redis session cookies are signed (sid.sig).")
    LEGACY_FILE_KEY_PREFIX: str = Field("session:", description="Key prefix hashed into legacy session file names.")
    LEGACY_USER_DATA_DIR: Path | None = Field(
        None, description="Directory of the legacy user_data/<user_id>.json files (kept on the progress record)."
    )
    LEGACY_TIMEZONE: str = Field("UTC", description="Zone of the legacy app's naive timestamps (the VM's).")

    TASKS_BACKEND: Literal["inline", "cloud_tasks"] = Field(
        "inline", description="Background tasks: inline (in-process, embedded) or cloud_tasks."
    )
    TASKS_QUEUE: str = Field("", description="Cloud Tasks queue, projects/<p>/locations/<l>/queues/<q>.")
    TASKS_WORKER_URL: str = Field("", description="Base URL of the private worker (also the OIDC audience).")
    TASKS_INVOKER_EMAIL: str = Field("", description="Service account whose OIDC token the worker accepts.")
    TASKS_OIDC_ISSUERS: str = Field(
        "https://accounts.google.com,accounts.google.com", description="Accepted OIDC issuers, comma-separated."
    )
    TASKS_OIDC_JWKS_URL: str = Field(
        "https://www.googleapis.com/oauth2/v3/certs", description="JWKS of the OIDC token issuer."
    )

    @property
    def legacy_zone(self) -> ZoneInfo:
        return ZoneInfo(self.LEGACY_TIMEZONE)

    @property
    def oidc_issuers(self) -> tuple[str, ...]:
        return tuple(i.strip() for i in self.TASKS_OIDC_ISSUERS.split(",") if i.strip())

    @model_validator(mode="after")
    def _check_migration(self) -> MigrationSettings:
        try:
            ZoneInfo(self.LEGACY_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"LEGACY_TIMEZONE {self.LEGACY_TIMEZONE!r} is not a known time zone") from None
        source = self.LEGACY_SESSION_SOURCE
        if source and not (source == "cookie" or source.startswith(("filesystem:", "redis://", "rediss://"))):
            raise ConfigurationError("LEGACY_SESSION_SOURCE must be 'filesystem:<dir>', 'redis://…' or 'cookie'")
        if self.TASKS_BACKEND == "cloud_tasks":
            missing = [n for n in ("TASKS_QUEUE", "TASKS_WORKER_URL", "TASKS_INVOKER_EMAIL") if not getattr(self, n)]
            if missing:
                raise ConfigurationError(f"TASKS_BACKEND=cloud_tasks needs {', '.join(missing)}")
        return self
