"""What Terraform computes from the catalog, a traffic file and an environment's tfvars, evaluated for real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.infra.hcl import Tree, load_tfvars
from tests.infra.terraform_cli import evaluate_module


def load_catalog(path: Path) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["services"]
    return services


def traffic_file(env_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((env_dir / "traffic.auto.tfvars.json").read_text(encoding="utf-8"))
    return data


def render_routing(tree: Tree, catalog: dict[str, Any], traffic: dict[str, Any]) -> dict[str, Any]:
    """The routing module's outputs for a catalog and a traffic file."""
    return evaluate_module(
        tree.module("routing"),
        {"services": catalog, "traffic": traffic["traffic"], "legacy_fallback": traffic["legacy_fallback"]},
    )


def render_config(tree: Tree, env_dir: Path) -> dict[str, Any]:
    """The service_config module's outputs for one environment's tfvars."""
    tfvars = load_tfvars(env_dir / "terraform.tfvars")
    return evaluate_module(
        tree.module("service_config"),
        {
            "environment": tfvars["environment"],
            "project_id": tfvars["project_id"],
            "region": tfvars.get("region", "asia-northeast1"),
            "jwt_active_kid": tfvars["jwt_active_kid"],
            "ale_primary_kid": tfvars["ale_primary_kid"],
            "gemini_use_vertex": tfvars.get("gemini_use_vertex", True),
        },
    )
