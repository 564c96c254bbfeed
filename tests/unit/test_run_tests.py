"""`make test`'s runner: zero collected tests is a failure, never a pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.run_tests import main


def test_no_tests_collected_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "test_nothing_here.py").write_text('"""No tests."""\n', encoding="utf-8")
    assert main([str(tmp_path), "-q", "-p", "no:cacheprovider", "-o", "addopts="]) == 1
    assert "collected no tests" in capsys.readouterr().err


def test_a_passing_run_passes(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one() -> None:\n    assert 1 + 1 == 2\n", encoding="utf-8")
    assert main([str(tmp_path), "-q", "-p", "no:cacheprovider", "-o", "addopts="]) == 0


def test_a_failing_run_fails(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one() -> None:\n    assert 1 + 1 == 3\n", encoding="utf-8")
    assert main([str(tmp_path), "-q", "-p", "no:cacheprovider", "-o", "addopts="]) == 1
