"""Nothing reads the environment outside the settings classes (pydantic-settings does it for them).

Handing the whole environment to a child process (``{**os.environ, ...}``) is not a read and is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TypeGuard

import pytest

from bench.chat_stream import mode_env
from bench.settings import BenchSettings

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("shared/src", "functions", "tools", "bench")


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", "") == "os"


def _reads(node: ast.AST) -> TypeGuard[ast.expr]:
    if isinstance(node, ast.Subscript):
        return _is_os_environ(node.value)
    if not isinstance(node, ast.Attribute):
        return False
    if _is_os_environ(node.value):
        return node.attr != "copy"  # environ.get/pop/setdefault/...; a copy is handed on, not read
    return node.attr == "getenv" and getattr(node.value, "id", "") == "os"


def environment_reads(source: str) -> list[int]:
    """Line numbers of ``os.environ[...]``, ``os.environ.get/pop/setdefault(...)`` and ``os.getenv(...)``."""
    return sorted({node.lineno for node in ast.walk(ast.parse(source)) if _reads(node)})


def test_the_detector_sees_reads_and_allows_passing_the_environment_on() -> None:
    reads = 'import os\na = os.environ.get("X")\nb = os.environ["Y"]\nc = os.getenv("Z")\n'
    assert environment_reads(reads) == [2, 3, 4]
    assert environment_reads("import os\nenv = {**os.environ, 'A': '1'}\nsnapshot = os.environ.copy()\n") == []


@pytest.mark.parametrize("folder", SCANNED)
def test_no_module_reads_the_environment_directly(folder: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in environment_reads(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "read settings through a pydantic-settings class instead: " + ", ".join(found)


def test_bench_redis_url_comes_from_its_settings_class(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BENCH_REDIS_URL", raising=False)
    assert BenchSettings().REDIS_URL == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("BENCH_REDIS_URL", "redis://10.1.2.3:6380/4")
    url = BenchSettings().REDIS_URL
    assert url == "redis://10.1.2.3:6380/4"
    stack = mode_env("stack", "http://gemini", tmp_path, "127.0.0.1:8086", "demo", redis_url=url)
    assert stack["REDIS_URL"] == url
    assert "REDIS_URL" not in mode_env("embedded", "http://gemini", tmp_path, "", "", redis_url=url)
