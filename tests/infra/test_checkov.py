"""checkov over terraform/, isolated with `uv tool run` so its pins stay out of our lockfile."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHECKOV = "checkov==3.3.30"


def _uv(repo: Path) -> str:
    for candidate in (repo / ".tools/bin/uv", Path("/tmp/uvboot/bin/uv")):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv not found (.tools/bin/uv, /tmp/uvboot/bin/uv or PATH): run `make install` first")
    return found


def test_checkov_finds_no_failed_checks_and_every_skip_is_justified(repo: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [
            _uv(repo),
            "tool",
            "run",
            "--from",
            CHECKOV,
            "checkov",
            "-d",
            "terraform",
            "--framework",
            "terraform",
            "--skip-download",
            "-o",
            "json",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.stdout.strip(), f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [c for r in reports for c in r["results"].get("failed_checks", [])]
    skipped = [c for r in reports for c in r["results"].get("skipped_checks", [])]
    summary = {
        key: sum(r["summary"][key] for r in reports) for key in ("passed", "failed", "skipped", "parsing_errors")
    }
    print(f"checkov: {summary} in {elapsed:.1f}s")
    assert not failed, [(c["check_id"], c["resource"], c["file_path"]) for c in failed]
    assert summary["failed"] == 0
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0
    assert len(skipped) == summary["skipped"]
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"
