"""promtool checks the Prometheus rules and runs their unit tests (alerts_test.yml): each escalation criterion
fires on data crossing it and stays quiet otherwise (a 4 % error ratio, a long SSE stream, a fast first token)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _promtool() -> str:
    """promtool from Debian's prometheus package, installed when missing; FAILS naming it otherwise."""
    found = shutil.which("promtool")
    if found:
        return found
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"]
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, timeout=300)
        subprocess.run(install, check=True, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"promtool is required (apt-get install prometheus) and could not be installed: {exc}")
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is required: the prometheus package installed no promtool")
    return found


@pytest.fixture(scope="module")
def promtool() -> str:
    return _promtool()


def test_rules_are_valid(promtool: str, repo: Path) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", "alerts.yml"],
        cwd=repo / "ops/prometheus",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_rule_unit_tests_pass(promtool: str, repo: Path) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml"],
        cwd=repo / "ops/prometheus",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
