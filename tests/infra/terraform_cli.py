"""Run the real ``terraform`` binary offline: ``fmt -check`` and evaluation of provider-free modules."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

TIMEOUT_S = 120


def terraform_binary() -> str:
    """The terraform executable; the offline infrastructure checks need it (CI installs it)."""
    found = shutil.which("terraform")
    if found is None:
        pytest.fail("terraform binary not found on PATH: install Terraform >= 1.11 to run tests/infra")
    return found


class TerraformRejected(Exception):
    """Terraform refused the inputs (a variable validation or an expression error); message is its stderr."""


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [terraform_binary(), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


def evaluate_module(module_dir: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    """Apply a provider-free module with ``inputs`` in a scratch root and return its outputs (values only)."""
    with tempfile.TemporaryDirectory(prefix="tf-eval-") as scratch:
        root = Path(scratch)
        variables = "\n".join(f'variable "{name}" {{\n  type = any\n}}' for name in inputs)
        arguments = "\n".join(f"  {name} = var.{name}" for name in inputs)
        (root / "main.tf").write_text(
            f'{variables}\n\nmodule "m" {{\n  source = "{module_dir.resolve()}"\n{arguments}\n}}\n\n'
            'output "all" {\n  value = module.m\n}\n',
            encoding="utf-8",
        )
        (root / "terraform.tfvars.json").write_text(json.dumps(inputs), encoding="utf-8")
        for step in (
            ["init", "-backend=false", "-input=false", "-no-color"],
            ["apply", "-auto-approve", "-input=false", "-no-color"],
        ):
            result = run(step, root)
            if result.returncode != 0:
                raise TerraformRejected(result.stderr.strip() or result.stdout.strip())
        output = run(["output", "-json", "-no-color", "all"], root)
        if output.returncode != 0:
            raise TerraformRejected(output.stderr.strip())
        values: dict[str, Any] = json.loads(output.stdout)
        return values
