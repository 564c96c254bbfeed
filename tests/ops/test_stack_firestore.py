"""``make stack``'s default mode: the services on the Firestore emulator and Redis, behind nginx."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.ops.stack_runner import nginx_binary, start_stack, stop_stack

pytestmark = pytest.mark.integration


def test_default_stack_serves_every_service_on_the_firestore_emulator(tmp_path: Path, redis_url: str) -> None:
    nginx_binary()
    if shutil.which("gcloud") is None:
        pytest.fail("the Firestore emulator is required: gcloud with the cloud-firestore-emulator component")
    stack = start_stack(tmp_path / "stack", store="firestore", candidates="", redis_url=redis_url)
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
