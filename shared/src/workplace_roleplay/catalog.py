"""The service catalog (``services.yaml``): which service serves which paths."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from workplace_roleplay.errors import ConfigurationError

# The catalog sits at the repository root; in a container image it is copied next to the package root.
_CANDIDATES = (
    Path(__file__).resolve().parents[3] / "services.yaml",
    Path.cwd() / "services.yaml",
)


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One Cloud Run service and the paths it serves."""

    name: str
    folder: str
    module: str
    cloud_run_name: str
    description: str
    api_prefix: str
    prefixes: tuple[str, ...]
    exact: tuple[str, ...]
    streaming_prefixes: tuple[str, ...]
    # Work continues in-process after the response (detached stream producer, summaries, memories),
    # so the cloud must not throttle the CPU between requests (ADR 0024).
    background_work: bool = False

    @property
    def health_path(self) -> str:
        return f"{self.api_prefix}/health"

    def serves(self, path: str) -> bool:
        """True when this service claims ``path``."""
        return path in self.exact or any(path == p or path.startswith(p + "/") for p in self.prefixes)


@dataclass(frozen=True, slots=True)
class Catalog:
    services: tuple[ServiceEntry, ...]
    legacy_name: str

    def get(self, name: str) -> ServiceEntry:
        for entry in self.services:
            if entry.name == name:
                return entry
        raise ConfigurationError(f"service {name!r} is not in the service catalog")

    def route(self, path: str) -> ServiceEntry | None:
        """The service that serves ``path`` (longest matching prefix wins), or None for legacy."""
        best: tuple[int, ServiceEntry] | None = None
        for entry in self.services:
            if path in entry.exact:
                return entry
            for prefix in entry.prefixes:
                if (path == prefix or path.startswith(prefix + "/")) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), entry)
        return best[1] if best else None


def _flag(value: object, where: str) -> bool:
    # YAML "yes"/"no" and strings would silently become truthy in Terraform's eyes; accept real booleans only.
    if not isinstance(value, bool):
        raise ConfigurationError(f"catalog: {where} must be true or false, not {value!r}")
    return value


def parse_catalog(raw: dict[str, Any]) -> Catalog:
    """Validate the decoded YAML and build the catalog."""
    try:
        services = tuple(
            ServiceEntry(
                name=name,
                folder=str(body["folder"]),
                module=str(body["module"]),
                cloud_run_name=str(body["cloud_run_name"]),
                description=str(body.get("description", "")),
                api_prefix=str(body["api_prefix"]),
                prefixes=tuple(body["prefixes"]),
                exact=tuple(body.get("exact") or ()),
                streaming_prefixes=tuple(body.get("streaming_prefixes") or ()),
                background_work=_flag(body.get("background_work", False), f"{name}.background_work"),
            )
            for name, body in raw["services"].items()
        )
        legacy_name = str(raw["legacy"]["name"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"malformed service catalog: {exc!r}") from exc
    for entry in services:
        if entry.api_prefix not in entry.prefixes:
            raise ConfigurationError(f"catalog: {entry.name}.api_prefix must be one of its prefixes")
        for prefix in entry.prefixes:
            if not prefix.startswith("/") or prefix.endswith("/"):
                raise ConfigurationError(f"catalog: prefix {prefix!r} must start and not end with '/'")
    return Catalog(services=services, legacy_name=legacy_name)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load the catalog from ``path`` or the repository root."""
    if path is None:
        return _default_catalog()
    return parse_catalog(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def _default_catalog() -> Catalog:
    for candidate in _CANDIDATES:
        if candidate.is_file():
            return parse_catalog(yaml.safe_load(candidate.read_text(encoding="utf-8")))
    raise ConfigurationError("services.yaml not found next to the package or in the working directory")
