"""What the running local stack publishes about itself (``<STACK_DIR>/stack.json``) for the ops commands."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tools.ops.nginx import NginxPaths
from tools.ops.traffic import OpsError

STATE_FILE = "stack.json"
TRAFFIC_FILE = "traffic.json"
SWITCHES_FILE = "switches.json"


@dataclass(slots=True)
class Process:
    """One service process (a "revision") of the stack."""

    service: str
    revision: str
    port: int
    pid: int = 0


@dataclass(slots=True)
class StackState:
    """Ports and pids of a running stack."""

    supervisor_pid: int
    port: int
    legacy_port: int
    nginx_bin: str
    store: str
    processes: list[Process] = field(default_factory=list)
    # Helper processes by role (nginx master, legacy stand-in, Firestore emulator wrapper = its group id).
    helpers: dict[str, int] = field(default_factory=dict)

    def revisions(self) -> dict[str, dict[str, int]]:
        """service -> revision -> port, the input of the nginx renderer."""
        out: dict[str, dict[str, int]] = {}
        for p in self.processes:
            out.setdefault(p.service, {})[p.revision] = p.port
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StackState:
        processes = [Process(**p) for p in raw.pop("processes", [])]
        return cls(**raw, processes=processes)


def nginx_paths(stack_dir: Path) -> NginxPaths:
    return NginxPaths(prefix=(stack_dir / "nginx").resolve())


def write_state(stack_dir: Path, state: StackState) -> None:
    tmp = stack_dir / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(stack_dir / STATE_FILE)


def read_state(stack_dir: Path) -> StackState:
    """The running stack's state; refuses when no stack runs there (a stale file counts as none)."""
    path = stack_dir / STATE_FILE
    try:
        state = StackState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise OpsError(f"the local stack is not running (no {path}); start it with `make stack`") from None
    if not _alive(state.supervisor_pid):
        raise OpsError(f"the local stack in {stack_dir} is not running (stale {path}); start it with `make stack`")
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_process(pid: int, sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal one process by its id (never by name)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
