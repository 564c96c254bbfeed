"""The first `terraform apply` of a new environment (issue 13, item 11): real tree and broken copies."""

from __future__ import annotations

from pathlib import Path

from tests.infra import first_apply
from tests.infra.conftest import Workspace
from tests.infra.hcl import Tree

STACK_SERVICES = "terraform/modules/stack/services.tf"
STACK_EDGE = "terraform/modules/stack/edge.tf"
RUN_SERVICE = "terraform/modules/run_service/main.tf"
SECRETS = "terraform/modules/secrets/main.tf"


def test_every_resource_module_waits_for_the_apis(real_tree: Tree) -> None:
    assert first_apply.modules_wait_for_api_enablement(real_tree) == []


def test_a_module_without_the_api_dependency_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        STACK_EDGE, "  preview             = var.armor_preview\n  depends_on", "  preview = var.armor_preview\n  # "
    )
    assert "module.armor (armor) does not depend on google_project_service.main" in (
        first_apply.modules_wait_for_api_enablement(workspace.tree())
    )


def test_the_startup_probe_window_is_within_cloud_runs_240_seconds(real_tree: Tree) -> None:
    assert first_apply.startup_probe_window(real_tree) == []


def test_a_300_second_startup_window_is_caught(workspace: Workspace) -> None:
    workspace.edit(RUN_SERVICE, "failure_threshold     = 120", "failure_threshold     = 150")
    problems = first_apply.startup_probe_window(workspace.tree())
    assert any("startup probe window 300 s > 240 s" in p for p in problems), problems


def test_services_start_only_after_the_bootstrap_wrote_their_secrets(real_tree: Tree) -> None:
    assert first_apply.initial_secret_material(real_tree) == []


def test_initial_material_in_state_or_without_a_named_precondition_is_caught(workspace: Workspace) -> None:
    workspace.edit(SECRETS, "secret_data_wo ", "secret_data ")
    workspace.edit(SECRETS, 'deletion_policy        = "ABANDON"', 'deletion_policy        = "DELETE"')
    problems = first_apply.initial_secret_material(workspace.tree())
    assert any("must be write-only" in p for p in problems), problems
    assert any("deletion_policy must be ABANDON" in p for p in problems), problems


def test_services_not_waiting_for_the_secrets_are_caught(workspace: Workspace) -> None:
    workspace.edit(STACK_SERVICES, "depends_on = [google_project_service.main, module.secrets]", "#")
    problems = first_apply.initial_secret_material(workspace.tree())
    assert "module.service must depend on module.secrets (initial versions before services)" in problems


def test_cloudbuild_substitutions_are_all_used_and_uv_is_one_version(repo: Path) -> None:
    problems = first_apply.cloudbuild_substitutions(repo / "cloudbuild.yaml", repo / "Makefile", repo / "Dockerfile")
    assert problems == []


def test_an_unused_substitution_is_caught(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cloudbuild.yaml"
    text = (repo / "cloudbuild.yaml").read_text(encoding="utf-8")
    copy.write_text(text.replace("substitutions:\n", "substitutions:\n  _NOBODY_READS_ME: x\n"), encoding="utf-8")
    problems = first_apply.cloudbuild_substitutions(copy, repo / "Makefile", repo / "Dockerfile")
    assert "cloudbuild.yaml: substitution _NOBODY_READS_ME is never used" in problems
