"""Runtime switches: emergency settings ops may flip per environment (fallback auth, simple mode).

A switch is a setting of the services' own settings classes; the value is validated by parsing it
with that class's field, so ops can never set a value the services would reject at startup.
Locally the values live in ``<STACK_DIR>/switches.json`` and reach the processes as environment
variables when the stack (re)starts them; in the cloud they live in the Terraform root's
``switches.auto.tfvars.json`` (variable ``runtime_switches``) and reach Cloud Run as env vars.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tools.ops.traffic import OpsError

# The emergency switches of the runbook; anything else is configuration and goes through review.
SWITCHES: dict[str, str] = {
    "FALLBACK_AUTH": "authentication failure: accept a valid legacy Flask session (value flask_session)",
    "MODEL_FORCE_SIMPLE": "model outage: answer in the simple-response mode (簡易応答モード) (true/false)",
}
CLOUD_SWITCHES_FILE = "switches.auto.tfvars.json"
LOCAL_SWITCHES_FILE = "switches.json"


def parse_value(name: str, raw: str) -> str:
    """Validate ``raw`` against the ``name`` field of every service's settings; returns it normalized."""
    # Imported here: the settings classes cost start-up time the traffic commands should not pay.
    from pydantic import TypeAdapter, ValidationError

    from workplace_roleplay.settings import SERVICE_SETTINGS

    if name not in SWITCHES:
        raise OpsError(f"unknown switch {name!r} (known: {', '.join(sorted(SWITCHES))})")
    parsed: object = None
    for service, cls in SERVICE_SETTINGS.items():
        field = cls.model_fields.get(name)
        if field is None or field.annotation is None:
            raise OpsError(f"the {service} service's settings have no {name} setting (not implemented yet?)")
        try:
            parsed = TypeAdapter(field.annotation).validate_python(raw)
        except ValidationError as exc:
            first = exc.errors()[0]["msg"]
            raise OpsError(f"{name}={raw!r} is not a valid value: {first}") from None
    if isinstance(parsed, bool):
        return "true" if parsed else "false"
    return str(getattr(parsed, "value", parsed))


def read_switches(path: Path) -> dict[str, str]:
    """The switches file as a flat name -> value mapping ({} when absent)."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    values = raw.get("runtime_switches", raw) if isinstance(raw, dict) else None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise OpsError(f"{path}: expected an object of string values")
    return {str(k): v for k, v in values.items()}


def write_switches(path: Path, values: dict[str, str], *, cloud: bool) -> None:
    """Write atomically; the cloud file wraps the values in the Terraform variable's name."""
    body: dict[str, Any] = {"runtime_switches": dict(sorted(values.items()))} if cloud else dict(sorted(values.items()))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)
