"""Parse a Terraform tree with python-hcl2 into plain dicts: blocks by kind, quotes stripped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

_META = {"__comments__", "__is_block__", "__start_line__", "__end_line__"}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def normalize(node: Any) -> Any:
    """Drop python-hcl2's bookkeeping keys and the quotes it keeps around labels and string literals."""
    if isinstance(node, dict):
        return {_unquote(k): normalize(v) for k, v in node.items() if k not in _META}
    if isinstance(node, list):
        return [normalize(v) for v in node]
    if isinstance(node, str):
        return _unquote(node)
    return node


@dataclass(frozen=True, slots=True)
class Block:
    """A top-level block (resource, module, variable, output, data, provider, terraform) of one module directory."""

    module_dir: Path
    file: Path
    kind: str
    labels: tuple[str, ...]
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.module_dir.name}/{self.file.name}: {self.kind} {'.'.join(self.labels)}"


def _flatten(kind: str, node: Any, depth: int, labels: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    if depth == 0:
        return [(labels, node)]
    out: list[tuple[tuple[str, ...], Any]] = []
    for item in node if isinstance(node, list) else [node]:
        for label, inner in item.items():
            out.extend(_flatten(kind, inner, depth - 1, (*labels, label)))
    return out


_LABELS = {"resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1, "provider": 1}


@dataclass(frozen=True, slots=True)
class Tree:
    """Every ``.tf`` file under a Terraform directory (modules and environments)."""

    root: Path
    blocks: tuple[Block, ...]
    locals: dict[Path, dict[str, Any]]

    @classmethod
    def load(cls, root: Path) -> Tree:
        blocks: list[Block] = []
        local_values: dict[Path, dict[str, Any]] = {}
        for file in sorted(root.rglob("*.tf")):
            if ".terraform" in file.parts:
                continue
            parsed = normalize(hcl2.loads(file.read_text(encoding="utf-8")))
            for kind, depth in _LABELS.items():
                for labels, body in _flatten(kind, parsed.get(kind, []), depth, ()):
                    blocks.append(Block(file.parent, file, kind, labels, body))
            for section in parsed.get("terraform", []):
                blocks.append(Block(file.parent, file, "terraform", (), section))
            for section in parsed.get("locals", []):
                local_values.setdefault(file.parent, {}).update(section)
        return cls(root=root, blocks=tuple(blocks), locals=local_values)

    def resources(self, rtype: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == "resource" and b.labels[0] == rtype]

    def module_calls(self, module_dir: str, name: str | None = None) -> list[Block]:
        """``module`` blocks declared in ``<root>/<module_dir>`` (optionally only the one called ``name``)."""
        return [
            b
            for b in self.blocks
            if b.kind == "module" and b.module_dir == self.root / module_dir and (name is None or b.labels[0] == name)
        ]

    def module(self, name: str) -> Path:
        return self.root / "modules" / name

    def environments(self) -> list[Path]:
        """The environment roots (``dev``, ``staging``, ``prod``), not the shared ``_root`` they link to."""
        return sorted(p for p in (self.root / "environments").iterdir() if p.is_dir() and not p.name.startswith("_"))

    def shared_root(self) -> Path:
        """The one root definition every environment symlinks (ADR 0023)."""
        return self.root / "environments" / "_root"


def load_tfvars(path: Path) -> dict[str, Any]:
    """A ``.tfvars`` file as a dict."""
    result: dict[str, Any] = normalize(hcl2.loads(path.read_text(encoding="utf-8")))
    return result


def first(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The first nested block called ``key`` ({} when absent)."""
    value = body.get(key)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return dict(value[0])
    return {}
