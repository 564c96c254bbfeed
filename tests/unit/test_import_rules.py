"""The inward-only dependency rule is enforced by the linters: show each one catching a violation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ruff_bans_sdk_imports_in_the_domain(tmp_path: Path) -> None:
    # Lint a file placed at a domain path inside the real project config (stdin with a filename).
    offender = "import redis\nfrom google.cloud import firestore\nimport fastapi\n\nprint(redis, firestore, fastapi)\n"
    result = subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--no-cache",
            "--select",
            "TID251",
            "--stdin-filename",
            "shared/src/workplace_roleplay/domain/offender.py",
            "-",
        ],
        input=offender,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.count("TID251") == 3
    assert "only adapters talk to Redis" in result.stdout
    assert "only adapters talk to Google Cloud" in result.stdout


def test_ruff_allows_sdk_imports_in_adapters() -> None:
    result = subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--no-cache",
            "--select",
            "TID251",
            "--stdin-filename",
            "shared/src/workplace_roleplay/adapters/offender.py",
            "-",
        ],
        input="import redis\n\nprint(redis)\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_import_linter_catches_an_outward_import(tmp_path: Path) -> None:
    # A copy of the package where the domain imports the web layer must break the layers contract.
    shutil.copytree(ROOT / "shared" / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        ROOT / "functions",
        tmp_path / "src" / "functions",
        ignore=shutil.ignore_patterns("__pycache__", "templates", "static"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "workplace_roleplay" / "domain" / "offender.py").write_text(
        "from workplace_roleplay.web import app\n\nprint(app)\n", encoding="utf-8"
    )
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env={"PYTHONPATH": str(tmp_path / "src"), "PATH": str(BIN)},
    )
    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout
    assert "workplace_roleplay.domain.offender -> workplace_roleplay.web" in result.stdout


def _lint_copy_with(tmp_path: Path, offender: str, source: str) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of the package with one extra module at ``offender`` (dotted path)."""
    shutil.copytree(ROOT / "shared" / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        ROOT / "functions",
        tmp_path / "src" / "functions",
        ignore=shutil.ignore_patterns("__pycache__", "templates", "static"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / Path(*offender.split("."))).with_suffix(".py").write_text(source, encoding="utf-8")
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env={"PYTHONPATH": str(tmp_path / "src"), "PATH": str(BIN)},
    )


def test_import_linter_catches_a_mode_importing_another_mode(tmp_path: Path) -> None:
    result = _lint_copy_with(
        tmp_path,
        "workplace_roleplay.domain.modes.scenario",
        "from workplace_roleplay.domain.modes.chat import ChatMode\n\nprint(ChatMode)\n",
    )
    assert result.returncode == 1, result.stdout
    assert "Modes use the engine, never each other BROKEN" in result.stdout
    assert "workplace_roleplay.domain.modes.scenario -> workplace_roleplay.domain.modes.chat" in " ".join(
        result.stdout.split()
    )


def test_import_linter_catches_the_engine_importing_a_mode(tmp_path: Path) -> None:
    result = _lint_copy_with(
        tmp_path,
        "workplace_roleplay.domain.conversation.offender",
        "from workplace_roleplay.domain.modes.chat import ChatMode\n\nprint(ChatMode)\n",
    )
    assert result.returncode == 1, result.stdout
    assert "The engine and its helpers know no mode BROKEN" in result.stdout
    assert "workplace_roleplay.domain.conversation.offender -> workplace_roleplay.domain.modes.chat" in " ".join(
        result.stdout.split()
    )
