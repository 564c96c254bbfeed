"""The shape of the environment roots: thin directories that link one shared root definition (ADR 0023).

Each environment owns only what differs per environment (its state backend and its values); the
Terraform code of the root lives once in ``environments/_root`` and is symlinked, so the three roots
cannot drift apart and a reviewer reads one copy.
"""

from __future__ import annotations

import os
from fnmatch import fnmatch

from tests.infra.hcl import Tree

# What an environment may hold as its own files; everything else is the shared root's.
PER_ENVIRONMENT = ("backend.tf", "terraform.tfvars", "*.auto.tfvars.json", ".terraform.lock.hcl")


def _own(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in PER_ENVIRONMENT)


def thin_roots(tree: Tree) -> list[str]:
    """Every environment = its own backend/values + relative symlinks to each ``_root/*.tf``; nothing else."""
    shared = tree.shared_root()
    if not shared.is_dir():
        return [f"{shared.relative_to(tree.root)} is missing: the environments have no shared root"]
    problems: list[str] = []
    shared_files = sorted(p.name for p in shared.iterdir() if p.suffix == ".tf" and not _own(p.name))
    for name in (p.name for p in shared.iterdir()):
        if name not in shared_files:
            problems.append(f"_root/{name}: per-environment files (state, values) belong in the environment")
    for env_dir in tree.environments():
        present = {p.name: p for p in env_dir.iterdir() if p.name not in {".terraform", "terraform.tfstate"}}
        for name in shared_files:
            link = present.pop(name, None)
            expected = f"../{shared.name}/{name}"
            if link is None:
                problems.append(f"{env_dir.name}/{name} is missing (link it: ln -s {expected} {name})")
            elif not link.is_symlink():
                problems.append(f"{env_dir.name}/{name} is a copy; it must be a symlink to {expected} (copies drift)")
            elif os.readlink(link) != expected:
                problems.append(f"{env_dir.name}/{name} links to {os.readlink(link)}, not {expected}")
        for name, path in sorted(present.items()):
            if path.is_symlink() or not _own(name):
                problems.append(
                    f"{env_dir.name}/{name}: an environment holds only {', '.join(PER_ENVIRONMENT)}; "
                    "shared code goes in _root, differences in terraform.tfvars"
                )
        if "backend.tf" not in present:
            problems.append(f"{env_dir.name}: no backend.tf (each environment keeps its own state)")
    return problems
