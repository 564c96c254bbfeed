"""Fixtures of the ops tests: a copy of a real environment root to edit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tools.ops.settings import OpsSettings
from tools.ops.traffic import default_state
from workplace_roleplay.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env_root(tmp_path: Path) -> Path:
    """``<tmp>/environments`` holding a copy of each cloud environment's Terraform root."""
    root = tmp_path / "environments"
    names = {e.name: e.cloud_run_name for e in load_catalog().services}
    # The environments link the shared root (ADR 0023): copy it and keep the links links.
    shutil.copytree(REPO / "terraform" / "environments" / "_root", root / "_root")
    for env in ("dev", "staging", "prod"):
        source = REPO / "terraform" / "environments" / env
        target = root / env
        if (source / "traffic.auto.tfvars.json").is_file():
            shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        else:
            target.mkdir(parents=True)
            (target / "traffic.auto.tfvars.json").write_text(json.dumps(default_state(names).to_json()))
    return root


@pytest.fixture
def ops_settings(env_root: Path, tmp_path: Path) -> OpsSettings:
    return OpsSettings(OPS_TERRAFORM_ROOT=env_root, STACK_DIR=tmp_path / "no-stack")
