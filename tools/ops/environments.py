"""Environments the ops commands act on and how a change takes effect in each.

``dev``/``staging``/``prod``: the Terraform root's ``traffic.auto.tfvars.json`` plus ``terraform apply``
(printed by default, run with ``--apply``). ``local``: the running stack's ``traffic.json``, applied by
re-rendering nginx's config and reloading it gracefully.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tools.ops import nginx
from tools.ops.settings import OpsSettings
from tools.ops.stack_state import TRAFFIC_FILE, nginx_paths, read_state
from tools.ops.traffic import OpsError, OpsFailed, TrafficFile, TrafficState
from workplace_roleplay.catalog import Catalog

CLOUD_ENVS = ("dev", "staging", "prod")
ENVS = ("local", *CLOUD_ENVS)
CLOUD_TRAFFIC_FILE = "traffic.auto.tfvars.json"


@dataclass(frozen=True, slots=True)
class Target:
    """One environment, resolved to files and commands."""

    name: str
    settings: OpsSettings
    catalog: Catalog

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    @property
    def root(self) -> Path:
        """The Terraform root (cloud) or the stack's run directory (local)."""
        if self.is_local:
            return self.settings.STACK_DIR
        return self.settings.OPS_TERRAFORM_ROOT / self.name

    def traffic_file(self) -> TrafficFile:
        services = [entry.name for entry in self.catalog.services]
        prefixes = {entry.name: entry.cloud_run_name for entry in self.catalog.services}
        if self.is_local:
            read_state(self.root)  # refuse early when no stack runs
            return TrafficFile(self.root / TRAFFIC_FILE, services, prefixes)
        if not self.root.is_dir():
            raise OpsError(f"environment {self.name!r}: {self.root} does not exist")
        return TrafficFile(self.root / CLOUD_TRAFFIC_FILE, services, prefixes)

    def terraform_command(self, *, auto_approve: bool = False) -> list[str]:
        command = [self.settings.OPS_TERRAFORM_BIN, f"-chdir={self.root}", "apply", "-input=false"]
        return [*command, "-auto-approve"] if auto_approve else command

    def check_applicable(self, state: TrafficState) -> None:
        """Refuse a state this environment cannot serve (locally: a revision with no process)."""
        if self.is_local:
            stack = read_state(self.root)
            paths = nginx_paths(self.root)
            nginx.render(self.catalog, state, stack.revisions(), stack.legacy_port, stack.port, paths)

    def take_effect(self, state: TrafficState, *, apply: bool, auto_approve: bool = False) -> float | None:
        """Make the written state live; returns the seconds it took when it acted (None: printed only)."""
        if self.is_local:
            return reload_local(self.root, self.catalog, state)
        return self.terraform(apply=apply, auto_approve=auto_approve)

    def latest_revisions(self) -> dict[str, str]:
        """``terraform output -json latest_created_revisions``: the newest revision per service."""
        if self.is_local:
            raise OpsError("adopt is for cloud environments (local processes are named by the stack)")
        command = [
            self.settings.OPS_TERRAFORM_BIN,
            f"-chdir={self.root}",
            "output",
            "-json",
            "latest_created_revisions",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise OpsFailed(f"{shlex.join(command)} failed: {result.stderr.strip()}")
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise OpsFailed(f"terraform output is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise OpsFailed("terraform output latest_created_revisions is not a map")
        return {str(k): str(v) for k, v in data.items()}

    def terraform(self, *, apply: bool, auto_approve: bool = False) -> float | None:
        """Print the environment's ``terraform apply`` or, with ``apply``, run it."""
        command = self.terraform_command(auto_approve=auto_approve)
        if not apply:
            print("to apply:  " + shlex.join(command), flush=True)
            return None
        print("running:  " + shlex.join(command), flush=True)
        started = time.perf_counter()
        result = subprocess.run(command, check=False)
        if result.returncode != 0:
            raise OpsFailed(f"terraform apply failed with exit code {result.returncode}; the file is edited")
        return time.perf_counter() - started


def reload_local(stack_dir: Path, catalog: Catalog, state: TrafficState) -> float:
    """Render nginx's config from ``state``, check it, reload nginx gracefully; returns seconds taken."""
    started = time.perf_counter()
    stack = read_state(stack_dir)
    paths = nginx_paths(stack_dir)
    generation = uuid.uuid4().hex[:12]
    text = nginx.render(catalog, state, stack.revisions(), stack.legacy_port, stack.port, paths, generation=generation)
    nginx.write_config(paths, text)
    nginx.check_config(stack.nginx_bin, paths)
    nginx.reload(stack.nginx_bin, paths)
    # HUP returns at once; the master starts new workers and retires the old ones a moment later.
    nginx.wait_for_generation(stack.port, generation)
    return time.perf_counter() - started


def break_glass_traffic(target: Target, service: str, state: TrafficState) -> str:
    """The ``gcloud`` command with the same effect, for when Terraform itself is unavailable."""
    entry = target.catalog.get(service)
    t = state.service(service)
    split = f"{t.stable_revision}={t.stable_percent}"
    if t.candidate_revision is not None and t.candidate_percent > 0:
        split += f",{t.candidate_revision}={t.candidate_percent}"
    return shlex.join(
        [
            "gcloud",
            "run",
            "services",
            "update-traffic",
            entry.cloud_run_name,
            f"--region={target.settings.OPS_GCLOUD_REGION}",
            f"--to-revisions={split}",
        ]
    )
