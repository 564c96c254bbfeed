"""Thin environment roots: one shared root definition, symlinked; each breakage of that shape is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.infra import layout
from tests.infra.conftest import Workspace
from tests.infra.hcl import Tree
from tests.infra.policies import CATALOG_EXPR
from tests.infra.render import load_catalog
from tests.infra.terraform_cli import run

ENVS = "terraform/environments"


def test_every_environment_links_the_shared_root_and_holds_only_its_own_values(real_tree: Tree) -> None:
    assert layout.thin_roots(real_tree) == []
    names = [p.name for p in real_tree.environments()]
    assert names == ["dev", "prod", "staging"]
    for env_dir in real_tree.environments():
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (env_dir / name).resolve() == real_tree.shared_root() / name


def test_the_parsed_tree_sees_the_shared_blocks_in_every_environment(real_tree: Tree) -> None:
    for env_dir in real_tree.environments():
        assert len(real_tree.module_calls(f"environments/{env_dir.name}", "stack")) == 1
        variables = {b.labels[0] for b in real_tree.blocks if b.kind == "variable" and b.module_dir == env_dir}
        assert {"project_id", "traffic", "legacy_fallback", "runtime_switches"} <= variables


def test_a_copied_root_file_is_caught(workspace: Workspace) -> None:
    link = workspace.root / ENVS / "staging/main.tf"
    text = link.read_text(encoding="utf-8")
    link.unlink()
    link.write_text(text.replace("module.stack", "module.stack"), encoding="utf-8")
    assert layout.thin_roots(workspace.tree()) == [
        "staging/main.tf is a copy; it must be a symlink to ../_root/main.tf (copies drift)"
    ]


def test_a_missing_link_an_absolute_link_and_an_extra_file_are_caught(workspace: Workspace) -> None:
    envs = workspace.root / ENVS
    (envs / "dev/outputs.tf").unlink()
    (envs / "prod/versions.tf").unlink()
    (envs / "prod/versions.tf").symlink_to(envs / "_root/versions.tf")
    (envs / "staging/override.tf").write_text('locals {\n  x = "y"\n}\n', encoding="utf-8")
    problems = layout.thin_roots(workspace.tree())
    assert "dev/outputs.tf is missing (link it: ln -s ../_root/outputs.tf outputs.tf)" in problems
    assert f"prod/versions.tf links to {envs / '_root/versions.tf'}, not ../_root/versions.tf" in problems
    assert any(p.startswith("staging/override.tf: an environment holds only") for p in problems), problems
    assert len(problems) == 3, problems


def test_state_or_values_in_the_shared_root_are_caught(workspace: Workspace) -> None:
    envs = workspace.root / ENVS
    shutil.copy2(envs / "dev/backend.tf", envs / "_root/backend.tf")
    shutil.copy2(envs / "dev/terraform.tfvars", envs / "_root/terraform.tfvars")
    problems = layout.thin_roots(workspace.tree())
    assert sorted(problems) == [
        "_root/backend.tf: per-environment files (state, values) belong in the environment",
        "_root/terraform.tfvars: per-environment files (state, values) belong in the environment",
    ]


def test_terraform_follows_the_links_and_reads_the_catalog_relative_to_the_environment(
    tmp_path: Path, catalog_path: Path
) -> None:
    # The real binary, on the same layout: a linked file is read, and path.module is the environment
    # directory (not the link target), so the root's relative catalog path holds in every environment.
    shared = tmp_path / ENVS / "_root"
    env = tmp_path / ENVS / "dev"
    shared.mkdir(parents=True)
    env.mkdir()
    shutil.copy2(catalog_path, tmp_path / "services.yaml")
    expr = CATALOG_EXPR.removeprefix("${").removesuffix("}")
    (shared / "main.tf").write_text(
        f'locals {{\n  catalog = {expr}\n}}\n\noutput "services" {{\n  value = keys(local.catalog.services)\n}}\n',
        encoding="utf-8",
    )
    (env / "main.tf").symlink_to("../_root/main.tf")
    for step in (["init", "-backend=false", "-input=false", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
        result = run(step, env)
        assert result.returncode == 0, result.stderr
    output = run(["output", "-json", "services"], env)
    assert sorted(json.loads(output.stdout)) == sorted(load_catalog(catalog_path))
