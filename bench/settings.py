"""The benchmarks' own knobs (environment ``BENCH_*``); the services' settings classes are not involved."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BenchSettings(BaseSettings):
    """Where the benchmarks find the shared services they drive."""

    model_config = SettingsConfigDict(env_prefix="BENCH_", extra="ignore")

    REDIS_URL: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis of the chat service in ``stack`` mode (BENCH_REDIS_URL)."
    )
    PYTHONPATH: str = Field(
        "",
        validation_alias=AliasChoices("PYTHONPATH"),
        description="The benchmark's own PYTHONPATH, kept behind the shims that hide uvloop/httptools (turn_cpu).",
    )
