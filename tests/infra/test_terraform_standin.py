"""The real terraform binary checks our roots against the google provider schema, offline (tools/tfstandin).

A schema-only stand-in provider, installed from a local filesystem mirror, lets ``init``, ``validate`` and
``plan -refresh=false`` run for every environment; broken fixtures show Terraform's own schema errors.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.terraform_cli import terraform_binary
from tools.tfstandin import mirror

ENVIRONMENTS = ["dev", "staging", "prod"]
TIMEOUT_S = 300


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the tree (so no .terraform/ lands in the repo) and the environment pointing at the mirror."""
    root = tmp_path_factory.mktemp("tfstandin")
    config = mirror.build(root / "standin")
    copy = root / "tree"
    shutil.copytree(repo / "terraform", copy / "terraform", ignore=shutil.ignore_patterns(".terraform*"))
    shutil.copy(repo / "services.yaml", copy / "services.yaml")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    env["GOOGLE_OAUTH_ACCESS_TOKEN"] = "dummy-offline-token"
    return copy, env


def _tf(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [terraform_binary(), *args, "-no-color"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _init(cwd: Path, env: dict[str, str]) -> None:
    (cwd / "standin_override.tf").write_text('terraform {\n  backend "local" {}\n}\n', encoding="utf-8")
    result = _tf(["init", "-input=false", "-reconfigure"], cwd, env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_validates_and_plans_against_the_provider_schema(
    standin: tuple[Path, dict[str, str]], environment: str
) -> None:
    tree, env = standin
    cwd = tree / "terraform" / "environments" / environment
    _init(cwd, env)
    validated = _tf(["validate"], cwd, env)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    plan = _tf(["plan", "-refresh=false", "-input=false", "-lock=false"], cwd, env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    counts = re.search(r"Plan: (\d+) to add, 0 to change, 0 to destroy", plan.stdout)
    assert counts is not None, plan.stdout[-2000:]
    assert int(counts.group(1)) > 100, counts.group(0)


def test_the_offline_plan_includes_the_redis_cluster_module(standin: tuple[Path, dict[str, str]]) -> None:
    tree, env = standin
    cwd = tree / "terraform" / "environments" / "dev"
    _init(cwd, env)
    plan = _tf(["plan", "-refresh=false", "-input=false", "-lock=false", "-var", "redis_topology=cluster"], cwd, env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert re.search(r"module\.redis_cluster\[0\]\.google_redis_cluster\.\w+ will be created", plan.stdout), (
        plan.stdout[-3000:]
    )
    assert "google_network_connectivity_service_connection_policy" in plan.stdout


_BASE = """
resource "google_redis_cluster" "c" {
  name        = "c"
  region      = "asia-northeast1"
  shard_count = %s
  psc_configs {
    network = "projects/p/global/networks/n"
  }
%s}
"""

BROKEN = {
    "unknown argument": (
        _BASE % ("3", "  shards_total = 3\n"),
        'An argument named "shards_total" is not expected here.',
    ),
    "missing required argument": (
        _BASE.replace("  shard_count = %s\n", "%s") % ("", ""),
        'The argument "shard_count" is required, but no definition was found.',
    ),
    "wrong type": (_BASE % ('"three"', ""), "a number is required"),
    "duplicated single block": (
        _BASE % ("3", '  persistence_config {\n    mode = "RDB"\n  }\n  persistence_config {\n    mode = "AOF"\n  }\n'),
        'No more than 1 "persistence_config" blocks are allowed',
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_fixture_fails_validate_with_terraforms_own_message(
    standin: tuple[Path, dict[str, str]], tmp_path: Path, case: str
) -> None:
    _, env = standin
    source, message = BROKEN[case]
    (tmp_path / "main.tf").write_text(source, encoding="utf-8")
    _init(tmp_path, env)
    result = _tf(["validate"], tmp_path, env)
    assert result.returncode != 0, f"{case}: validate passed"
    assert message in " ".join((result.stdout + result.stderr).split()), result.stdout + result.stderr
