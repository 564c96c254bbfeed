"""Policies for the first ``terraform apply`` of a new environment (issue 13, item 11).

An offline plan cannot see these: they fail only when Google's APIs answer. Each returns a list of
violations (empty: compliant); tests/infra/test_first_apply.py runs them on the real tree and on
broken copies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.infra.hcl import Block, Tree, first

API_ENABLEMENT = "${google_project_service.main}"
# Cloud Run: a startup probe may take at most 240 s (initial delay + period x failure threshold).
STARTUP_WINDOW_MAX_S = 240


def _creates_resources(module_dir: Path) -> bool:
    return any(
        re.search(r'^resource\s+"google', f.read_text(encoding="utf-8"), re.MULTILINE) for f in module_dir.glob("*.tf")
    )


def modules_wait_for_api_enablement(tree: Tree) -> list[str]:
    """Every module the stack calls that creates Google resources depends on the project's API enablement."""
    problems: list[str] = []
    for call in tree.module_calls("modules/stack"):
        source = (call.module_dir / str(call.body.get("source", ""))).resolve()
        if not _creates_resources(source):
            continue
        if API_ENABLEMENT not in (call.body.get("depends_on") or []):
            problems.append(f"module.{call.labels[0]} ({source.name}) does not depend on google_project_service.main")
    return problems


def _startup_probes(service: Block) -> list[dict[str, Any]]:
    template = first(service.body, "template")
    return [first(container, "startup_probe") for container in template.get("containers", [])]


def startup_probe_window(tree: Tree) -> list[str]:
    problems: list[str] = []
    for service in tree.resources("google_cloud_run_v2_service"):
        for probe in _startup_probes(service):
            if not probe:
                continue
            window = int(probe.get("initial_delay_seconds", 0)) + int(probe.get("period_seconds", 10)) * int(
                probe.get("failure_threshold", 3)
            )
            if window > STARTUP_WINDOW_MAX_S:
                problems.append(f"{service.address}: startup probe window {window} s > {STARTUP_WINDOW_MAX_S} s")
    return problems


def initial_secret_material(tree: Tree) -> list[str]:
    """Services never start against empty secrets: the bootstrap writes version 1 first (write-only)."""
    problems: list[str] = []
    versions = [b for b in tree.resources("google_secret_manager_secret_version") if b.module_dir.name == "secrets"]
    if not versions:
        return ["modules/secrets writes no initial secret version: a new environment starts with empty secrets"]
    for version in versions:
        body = version.body
        if "secret_data" in body or "secret_data_wo" not in body:
            problems.append(f"{version.address}: initial material must be write-only (secret_data_wo, never in state)")
        if body.get("deletion_policy") != "ABANDON":
            problems.append(f"{version.address}: deletion_policy must be ABANDON (leaving bootstrap keeps the version)")
        preconditions = first(body, "lifecycle").get("precondition", [])
        if not any("${each.key}" in str(p.get("error_message", "")) for p in preconditions):
            problems.append(f"{version.address}: needs a precondition whose message names the missing secret")
    for name in ("service", "worker"):
        for call in tree.module_calls("modules/stack", name):
            if "${module.secrets}" not in (call.body.get("depends_on") or []):
                problems.append(f"module.{name} must depend on module.secrets (initial versions before services)")
    return problems


def cloudbuild_substitutions(cloudbuild: Path, makefile: Path, dockerfile: Path) -> list[str]:
    """Every declared substitution is used, and the uv version is the same in CI, the image and make."""
    text = cloudbuild.read_text(encoding="utf-8")
    declared: dict[str, Any] = yaml.safe_load(text).get("substitutions", {})
    body = text.split("\noptions:", 1)[1]
    problems = [
        f"cloudbuild.yaml: substitution {name} is never used" for name in declared if f"${{{name}}}" not in body
    ]
    uv = str(declared.get("_UV_VERSION", ""))
    make_uv = re.search(r"^UV_VERSION := (\S+)$", makefile.read_text(encoding="utf-8"), re.MULTILINE)
    docker_uv = re.search(r"^ARG UV_VERSION=(\S+)$", dockerfile.read_text(encoding="utf-8"), re.MULTILINE)
    for where, found in (("Makefile", make_uv), ("Dockerfile", docker_uv)):
        if found is None or found.group(1) != uv:
            problems.append(f"_UV_VERSION {uv!r} differs from the {where}'s ({found.group(1) if found else None!r})")
    return problems
