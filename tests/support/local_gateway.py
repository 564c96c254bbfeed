"""``make run``'s one-origin gateway as a subprocess (embedded mode: SQLite, in-process cache)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def run_gateway(data_dir: Path, **env: str) -> Iterator[str]:
    """Start the gateway with ``env`` on top of a minimal environment; yields its base URL."""
    port = free_port()
    values = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "PORT": str(port),
        "DATA_DIR": str(data_dir),
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    log_path = data_dir / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workplace_roleplay.web.gateway"], cwd=ROOT, env=values, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http_ok(f"{base}/api/v2/chat/health", timeout_s=30, process=process)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log_path.read_text(errors='replace')[-3000:]}") from None
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
