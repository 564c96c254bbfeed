"""``make stack``'s default mode: the services on the Firestore emulator and Redis, behind nginx."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.ops.stack_runner import nginx_binary, start_stack, stop_stack
from tools.ops.stack_state import read_state

pytestmark = pytest.mark.integration


def test_default_stack_serves_every_service_on_the_firestore_emulator(tmp_path: Path, redis_url: str) -> None:
    nginx_binary()
    if shutil.which("gcloud") is None:
        pytest.fail("the Firestore emulator is required: gcloud with the cloud-firestore-emulator component")
    stack = start_stack(tmp_path / "stack", store="firestore", candidates="", redis_url=redis_url)
    emulator_group = read_state(stack.run_dir).helpers["emulator"]
    assert len(live_members(emulator_group)) >= 2  # the gcloud wrapper and the emulator's JVM
    try:
        with httpx.Client(base_url=stack.url, timeout=10) as client:
            for service, path in stack.health_paths.items():
                assert client.get(path).json()["version"] == f"{service.replace('_', '-')}-stable"
                ready = client.get(path.removesuffix("/health") + "/ready")
                assert ready.status_code == 200, ready.text
                checks = ready.json()["checks"]
                assert checks["store"] == {"status": "ok", "backend": "firestore", "detail": ""}
                assert checks["cache"]["backend"] == "redis"
                assert checks["cache"]["status"] == "ok"
    finally:
        stop_stack(stack)
    assert stack.process.returncode == 0
    # gcloud forks a JVM; the whole process group must be gone, not just the wrapper.
    assert live_members(emulator_group) == []


def live_members(group: int) -> list[int]:
    """Processes of a process group that still run (zombies left to a non-reaping init count as gone)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            members.append(int(stat.parent.name))
    return members
