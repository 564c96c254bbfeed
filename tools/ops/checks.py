"""``ops check``: every service's /health and /ready through the front door (nginx or the LB)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tools.ops.processes import fetch
from tools.ops.traffic import OpsFailed
from workplace_roleplay.catalog import Catalog


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    service: str
    version: str
    ready: str
    store: str
    cache: str


def check_services(base_url: str, catalog: Catalog) -> list[ServiceCheck]:
    """One row per catalog service; a service that does not answer shows as ``down``."""
    rows = []
    for entry in catalog.services:
        status, body = fetch(base_url + entry.health_path, timeout=5)
        version = _field(body, "version") if status == 200 else f"down ({status or 'no answer'})"
        status, body = fetch(base_url + entry.api_prefix + "/ready", timeout=5)
        try:
            ready = json.loads(body) if body else {}
        except ValueError:
            ready = {}
        checks = ready.get("checks", {}) if isinstance(ready, dict) else {}
        rows.append(
            ServiceCheck(
                service=entry.name,
                version=version,
                ready=str(ready.get("status", f"down ({status or 'no answer'})")),
                store=_describe(checks.get("store")),
                cache=_describe(checks.get("cache")),
            )
        )
    return rows


def _field(body: bytes, name: str) -> str:
    try:
        return str(json.loads(body).get(name, "?"))
    except (ValueError, AttributeError):
        return "?"


def _describe(check: object) -> str:
    if not isinstance(check, dict):
        return "-"
    detail = f" ({check['detail']})" if check.get("detail") else ""
    return f"{check.get('backend', '?')}:{check.get('status', '?')}{detail}"


def report(rows: list[ServiceCheck]) -> str:
    """The table, and an exception when any service is not ready (so scripts can act on the exit code)."""
    lines = [f"{'service':<16} {'version':<28} {'ready':<12} {'store':<24} cache"]
    lines += [f"{r.service:<16} {r.version:<28} {r.ready:<12} {r.store:<24} {r.cache}" for r in rows]
    text = "\n".join(lines)
    down = [r.service for r in rows if r.ready not in ("ok", "degraded")]
    if down:
        raise OpsFailed(f"{text}\nnot ready: {', '.join(down)}")
    return text
