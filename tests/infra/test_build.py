"""Static checks of the Dockerfile and cloudbuild.yaml (no docker engine or Cloud Build runs here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra import render


@pytest.fixture(scope="module")
def dockerfile(repo: Path) -> str:
    return (repo / "Dockerfile").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cloudbuild(repo: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((repo / "cloudbuild.yaml").read_text(encoding="utf-8"))
    return data


def _stages(dockerfile: str) -> list[str]:
    return re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", dockerfile, flags=re.MULTILINE)


def test_dockerfile_is_multi_stage_and_parameterised_by_service(dockerfile: str) -> None:
    assert _stages(dockerfile) == ["build", "runtime"]
    assert dockerfile.count("ARG SERVICE") == 2  # declared in both stages
    assert 'test -n "${SERVICE}"' in dockerfile


def test_dockerfile_installs_only_the_service_from_the_lockfile(dockerfile: str) -> None:
    syncs = [line for line in dockerfile.splitlines() if "uv sync" in line]
    assert len(syncs) == 2
    for line in syncs:
        assert "--frozen" in line
        assert "--no-dev" in line
        assert '--package "wr-$(echo "${SERVICE}" | tr _ -)"' in line
    assert "COPY pyproject.toml uv.lock ./" in dockerfile


def test_dockerfile_workspace_members_match_the_catalog(dockerfile: str, catalog_path: Path, repo: Path) -> None:
    catalog = render.load_catalog(catalog_path)
    for name, svc in catalog.items():
        assert f"COPY {svc['folder']}/pyproject.toml" in dockerfile
        manifest = (repo / svc["folder"] / "pyproject.toml").read_text(encoding="utf-8")
        assert f'name = "wr-{name.replace("_", "-")}"' in manifest
        # cloudbuild derives Cloud Run names the same way
        assert svc["cloud_run_name"] == name.replace("_", "-")


def test_runtime_image_runs_uvicorn_factory_as_non_root_with_the_catalog(dockerfile: str) -> None:
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert re.search(r"^USER app:app$", runtime, flags=re.MULTILINE)
    assert "useradd --system" in runtime
    assert "COPY --chown=app:app services.yaml services.yaml" in runtime
    assert "COPY --chown=app:app functions/${SERVICE}/ functions/${SERVICE}/" in runtime
    cmd = runtime.strip().splitlines()[-1]
    assert cmd.startswith("CMD ")
    assert 'exec uvicorn --factory \\"functions.${SERVICE}.main:create\\" --host 0.0.0.0 --port \\"${PORT}\\"' in cmd
    # the build toolchain stays in the build stage
    assert "uv" not in runtime.replace("uvicorn", "")


def test_dockerignore_keeps_the_context_small(repo: Path) -> None:
    ignored = (repo / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "tests", "terraform"):
        assert entry in ignored


def _step(cloudbuild: dict[str, Any], step_id: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in cloudbuild["steps"] if s["id"] == step_id)
    return step


def test_cloudbuild_runs_the_checks_before_anything_else(cloudbuild: dict[str, Any]) -> None:
    first = cloudbuild["steps"][0]
    assert first["id"] == "checks"
    assert "make test" in first["args"][-1]


def _readme_test_command(repo: Path) -> str:
    readme = (repo / "README.md").read_text(encoding="utf-8")
    quick_start = re.search(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
    assert quick_start is not None, "README has no quick-start block"
    commands = [line.split("#")[0].strip() for line in quick_start.group(1).splitlines()]
    return next(c for c in commands if c.startswith("make test"))


def test_cloudbuild_checks_run_the_readme_command_with_every_binary_the_suite_needs(
    cloudbuild: dict[str, Any], repo: Path
) -> None:
    script = _step(cloudbuild, "checks")["args"][-1]
    lines = [line.strip() for line in script.splitlines()]
    assert _readme_test_command(repo) in lines  # the same command, not a CI-only variant
    install = re.search(r"apt-get install ((?:[^\n\\]|\\\n)*)", script)  # continued lines included
    assert install is not None
    packages = set(install.group(1).replace("\\", " ").split())
    # Real services of the suite: Redis, the Firestore emulator, nginx for the ops/stack tests, promtool, Chromium.
    needed = {"redis-server", "openjdk-17-jre-headless", "google-cloud-cli-firestore-emulator", "nginx"}
    assert needed | {"prometheus", "chromium", "make", "python3-venv"} <= packages, packages


def test_cloudbuild_builds_every_catalog_service_in_parallel_without_kaniko(
    cloudbuild: dict[str, Any], catalog_path: Path
) -> None:
    catalog = render.load_catalog(catalog_path)
    for name in catalog:
        step = _step(cloudbuild, f"build-{name}")
        assert step["waitFor"] == ["checks"]  # parallel with the other builds
        assert step["name"] == "gcr.io/cloud-builders/docker"
        script = step["args"][-1]
        assert f"service={name}\n" in script
        assert "docker build --build-arg" in script
        assert "RepoDigests" in script  # deploy by digest
    assert "kaniko" not in yaml.safe_dump(cloudbuild).lower()
    assert set(cloudbuild["substitutions"]["_SERVICES"].split()) == set(catalog)


def test_cloudbuild_deploys_without_traffic_then_canaries_through_terraform(cloudbuild: dict[str, Any]) -> None:
    deploy = _step(cloudbuild, "deploy-candidates")["args"][-1]
    assert "--no-traffic" in deploy
    assert "digest-" in deploy
    assert "--tag" not in deploy  # Terraform owns tags and traffic (ADR 0020)
    canary = _step(cloudbuild, "canary")["args"][-1]
    assert canary.index('canary "$${service}" 0 --revision') < canary.index("x-canary: 1")
    assert canary.index("x-canary: 1") < canary.index('canary "$${service}" "${_CANARY_PERCENT}"')
    assert 'rollback "$${service}"' in canary
    assert "promote" not in canary  # promotion is left to the on-call
    assert "record-traffic" in [s["id"] for s in cloudbuild["steps"]]


def test_cloudbuild_bash_variables_are_escaped_from_substitution(cloudbuild: dict[str, Any]) -> None:
    builtins = {"PROJECT_ID", "BUILD_ID", "COMMIT_SHA", "SHORT_SHA"}
    allowed = builtins | set(cloudbuild["substitutions"])
    for step in cloudbuild["steps"]:
        script = step["args"][-1]
        for name in re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", script):
            assert name in allowed, f"{step['id']}: ${{{name}}} is neither a substitution nor escaped as $${{...}}"


def test_build_triggers_watch_the_function_the_shared_package_and_the_lockfile(repo: Path) -> None:
    text = (repo / "terraform/modules/build_triggers/main.tf").read_text(encoding="utf-8")
    for entry in ('"${each.value}/**"', '"shared/**"', '"uv.lock"'):
        assert entry in text


def test_cloudbuild_validates_every_terraform_root(cloudbuild: dict[str, Any], repo: Path) -> None:
    checks = _step(cloudbuild, "checks")["args"][-1]
    assert 'terraform -chdir="terraform/environments/$${env}" validate' in checks
    envs = re.search(r"for env in ([a-z ]+); do", checks)
    assert envs is not None
    roots = (p.name for p in (repo / "terraform/environments").iterdir() if not p.name.startswith("_"))
    assert sorted(envs.group(1).split()) == sorted(roots)
