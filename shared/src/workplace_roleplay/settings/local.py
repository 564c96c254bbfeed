"""Settings of the local runner (``make run``) and the local stack."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LocalRunSettings(BaseSettings):
    """Where the one-origin local gateway listens."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    HOST: str = Field("127.0.0.1", description="Interface of the local gateway (make run).")
    PORT: int = Field(8080, ge=1, le=65535, description="Port of the local gateway (make run) and of a service.")
