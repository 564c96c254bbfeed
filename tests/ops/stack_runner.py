"""Starting and stopping ``make stack`` (``python -m tools.ops stack``) from tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.redis_server import free_port
from tools.ops import nginx
from tools.ops.processes import health_version
from tools.ops.traffic import OpsError
from workplace_roleplay.catalog import load_catalog

STARTUP_TIMEOUT_S = 120.0
REPO = Path(__file__).resolve().parents[2]


@dataclass
class LocalStack:
    process: subprocess.Popen[bytes]
    run_dir: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def health_paths(self) -> dict[str, str]:
        return {e.name: e.health_path for e in load_catalog().services}


def nginx_binary() -> str:
    """nginx, installed the way ``make stack`` does when missing; the test FAILS naming it otherwise."""
    try:
        return nginx.ensure_installed()
    except (OpsError, OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(
            f"nginx is required for the stack tests and could not be installed (apt-get install -y nginx): {exc}"
        )


def start_stack(
    run_dir: Path, *, store: str, candidates: str, redis_url: str, model: str = "auto", redis_mode: str = "standalone"
) -> LocalStack:
    """Start the stack and wait until nginx serves every health path; FAIL naming what did not start."""
    # The test picks nginx's port and releases it before nginx binds it; another run on this machine
    # may take it in between. Only that case is retried, with a new port.
    for _ in range(3):
        stack = _start(
            run_dir, store=store, candidates=candidates, redis_url=redis_url, model=model, redis_mode=redis_mode
        )
        if stack is not None:
            return stack
    pytest.fail(f"the local stack found its port taken three times in a row:\n{(run_dir / 'stack.out').read_text()}")


def _start(
    run_dir: Path, *, store: str, candidates: str, redis_url: str, model: str, redis_mode: str
) -> LocalStack | None:
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = run_dir / "stack.out"
    env = {
        **os.environ,
        "STACK_DIR": str(run_dir),
        "PORT": str(port),
        "STACK_STORE": store,
        "STACK_CANDIDATES": candidates,
        "STACK_REDIS_URL": redis_url,
        "STACK_MODEL": model,
        "STACK_REDIS_MODE": redis_mode,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.ops", "stack"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO
        )
    stack = LocalStack(process, run_dir, port, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text()
            if f"127.0.0.1:{port} failed (98: Address already in use)" in output:
                return None
            pytest.fail(f"the local stack exited during startup ({process.returncode}):\n{output[-3000:]}")
        ready = (run_dir / "stack.json").exists() and all(
            health_version(stack.url + path) for path in stack.health_paths.values()
        )
        if ready:
            return stack
        time.sleep(0.2)
    stop_stack(stack)
    pytest.fail(
        f"the local stack did not serve every health path within {STARTUP_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}"
    )


def stop_stack(stack: LocalStack) -> None:
    """Ctrl-C, as a developer would; kill only if it hangs."""
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
        try:
            stack.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait(timeout=10)
