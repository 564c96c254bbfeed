"""Settings of the ops commands and the local stack (the only place they read the environment)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OpsSettings(BaseSettings):
    """Where the ops commands find environments and tools, and how ``make stack`` runs."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    OPS_TERRAFORM_ROOT: Path = Field(
        Path("terraform/environments"), description="Directory holding one Terraform root per environment."
    )
    OPS_TERRAFORM_BIN: str = Field("terraform", description="Terraform binary run by --apply.")
    OPS_GCLOUD_REGION: str = Field("asia-northeast1", description="Region printed in break-glass gcloud commands.")
    STACK_DIR: Path = Field(Path(".stack"), description="Run directory of the local stack (state, nginx, logs).")
    PORT: int = Field(8080, ge=1, le=65535, description="Port nginx listens on in the local stack.")
    STACK_STORE: Literal["firestore", "sqlite"] = Field(
        "firestore", description="Store of the local stack: the Firestore emulator or embedded SQLite."
    )
    STACK_REDIS_URL: str = Field(
        "", description="Redis the stack's services use; empty: REDIS_URL, else redis://127.0.0.1:6379/0."
    )
    REDIS_URL: str = Field("", description="The developer's Redis (also what cache-clear acts on).")
    STACK_REDIS_MODE: Literal["standalone", "cluster"] = Field(
        "standalone",
        description="Redis topology of the stack: standalone, or cluster (a local three-primary Redis Cluster the "
        "stack starts, unless STACK_REDIS_URL names one).",
    )
    STACK_MODEL: Literal["auto", "fake"] = Field(
        "auto",
        description="Model of the stack's services: auto (Gemini if configured, else simple-response) or "
        "fake (a local fake Gemini server, tools/fake_gemini.py).",
    )
    STACK_CANDIDATES: str = Field(
        "chat", description="Comma-separated services that get a second, candidate process in the stack."
    )

    @property
    def stack_redis_url(self) -> str:
        return self.STACK_REDIS_URL or self.REDIS_URL or "redis://127.0.0.1:6379/0"
