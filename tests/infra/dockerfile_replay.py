"""Replay the Dockerfile without a docker engine: its COPY, WORKDIR, ENV and `uv sync` steps run in a scratch
directory that stands in for the image's filesystem, so the recipe itself (lockfile, package selection, copied
files) is exercised even where no docker daemon runs."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# RUN lines that only make sense inside a real image (users, the uv bootstrap); everything else must be `uv sync`.
IMAGE_ONLY = ("test -n", "pip install", "groupadd")


@dataclass
class Stage:
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse(text: str) -> list[Stage]:
    """Stages of a Dockerfile as (instruction, arguments) pairs, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op, _, args = line.partition(" ")
        if op.upper() == "FROM":
            stages.append(Stage(name=args.split(" AS ")[-1].strip() if " AS " in args else args))
        elif stages:
            stages[-1].instructions.append((op.upper(), args.strip()))
    return stages


class Replay:
    """A scratch root standing in for the image filesystem; absolute paths are mapped under it."""

    def __init__(self, repo: Path, root: Path, uv: str, service: str) -> None:
        self.repo, self.root, self.uv, self.service = repo, root, uv, service
        self.env: dict[str, str] = {"SERVICE": service}
        self.workdir = "/"
        # Added on top of the inherited environment (proxies, certificates) through `env`, like docker's ENV.
        self.base_env = {"UV_PYTHON": sys.executable}

    def host(self, path: str) -> Path:
        target = path if path.startswith("/") else f"{self.workdir.rstrip('/')}/{path}"
        return self.root / "fs" / self.stage / target.lstrip("/")

    def expand(self, text: str) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: self.env.get(m.group(1) or m.group(2), m.group(0)), text)

    def run_stage(self, stage: Stage) -> None:
        self.stage = stage.name
        for op, args in stage.instructions:
            if op == "WORKDIR":
                self.workdir = args
                self.host(".").mkdir(parents=True, exist_ok=True)
            elif op == "ENV":
                for key, value in re.findall(r"(\w+)=(\S+)", args):
                    self.env[key] = self.expand(value).replace("/app/.venv", str(self.root / "fs/build/app/.venv"))
            elif op == "COPY":
                self.copy(args)
            elif op == "RUN":
                self.run(args)

    def copy(self, args: str) -> None:
        words = [w for w in shlex.split(self.expand(args)) if not w.startswith("--chown")]
        source_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        words = [w for w in words if not w.startswith("--from=")]
        *sources, destination = words
        for source in sources:
            origin = self.root / "fs" / source_stage / source.lstrip("/") if source_stage else self.repo / source
            target = self.host(destination)
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True, symlinks=True)
            else:
                dest = target / origin.name if destination.endswith("/") else target
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, dest)

    def run(self, args: str) -> None:
        command = re.sub(r"--mount=\S+\s*", "", args).strip()
        if command.startswith(IMAGE_ONLY):
            return
        if not command.startswith("uv sync"):
            raise AssertionError(f"the replay does not know how to run: {command}")
        env = {**self.base_env, **self.env, "UV_PROJECT_ENVIRONMENT": str(self.root / "fs/build/app/.venv")}
        script = command.replace("uv sync", f"{shlex.quote(self.uv)} sync", 1)
        result = subprocess.run(
            ["env", *(f"{k}={v}" for k, v in env.items()), "bash", "-c", script],
            cwd=self.host("."),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise AssertionError(f"`{command}` failed:\n{result.stderr[-3000:]}")
