"""The small JSON index each service answers at its API prefix."""

from __future__ import annotations

from pydantic import BaseModel

from workplace_roleplay.catalog import load_catalog


class ServiceIndex(BaseModel):
    service: str
    description: str
    prefixes: list[str]
    docs: str
    health: str


def service_index(service: str) -> ServiceIndex:
    entry = load_catalog().get(service)
    return ServiceIndex(
        service=entry.name,
        description=entry.description,
        prefixes=list(entry.prefixes),
        docs=f"{entry.api_prefix}/docs",
        health=entry.health_path,
    )
