"""Machine-readable export of every service's settings: env var names, which are secrets, which are required.

``python -m tools.settings_export`` prints JSON; the infrastructure policy tests (tests/infra) read the
same data at test time, so Terraform is checked against the settings classes, never a copied list.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from workplace_roleplay.settings import SERVICE_SETTINGS


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One env var a service reads."""

    name: str
    secret: bool
    required_in_cloud: bool


def _is_secret(cls: type[BaseSettings], name: str) -> bool:
    annotation = cls.model_fields[name].annotation
    return annotation is SecretStr or "SecretStr" in repr(annotation)


def settings_of(cls: type[BaseSettings]) -> dict[str, SettingSpec]:
    """The env vars of one settings class (pydantic-settings: field name, no prefix, case-insensitive)."""
    required = set(getattr(cls, "required_in_cloud", ()))
    unknown = required - set(cls.model_fields)
    if unknown:
        raise ValueError(f"{cls.__name__}.required_in_cloud names unknown settings: {sorted(unknown)}")
    return {
        name: SettingSpec(name=name, secret=_is_secret(cls, name), required_in_cloud=name in required)
        for name in cls.model_fields
    }


def export() -> dict[str, dict[str, SettingSpec]]:
    """Per catalog service name: its settings."""
    return {service: settings_of(cls) for service, cls in SERVICE_SETTINGS.items()}


def main() -> int:
    data = {service: {name: asdict(spec) for name, spec in specs.items()} for service, specs in export().items()}
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
