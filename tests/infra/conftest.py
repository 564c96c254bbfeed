"""Fixtures of the infrastructure tests: the real tree, and disposable copies to break on purpose."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.hcl import Tree

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_tree() -> Tree:
    return Tree.load(REPO / "terraform")


@pytest.fixture(scope="session")
def catalog_path() -> Path:
    return REPO / "services.yaml"


class Workspace:
    """A copy of ``terraform/`` and ``services.yaml`` that a test may edit (a broken fixture)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # symlinks=True: the environments' relative links to _root must stay links in the copy.
        shutil.copytree(
            REPO / "terraform",
            root / "terraform",
            symlinks=True,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"),
        )
        shutil.copy2(REPO / "services.yaml", root / "services.yaml")

    @property
    def catalog_path(self) -> Path:
        return self.root / "services.yaml"

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace ``old`` (which must occur) by ``new`` in one file of the copy."""
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture out of date: {old!r} not found in {relative}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def tree(self) -> Tree:
        return Tree.load(self.root / "terraform")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


Edit = Callable[[Workspace], None]
