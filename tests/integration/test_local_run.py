"""`make run`'s gateway: all four services on one origin, embedded defaults, clean stop on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
HEALTH_PATHS = (
    "/api/v2/chat/health",
    "/api/v2/scenarios/health",
    "/api/v2/watch/health",
    "/api/v2/auth/health",
    "/api/v2/migrate/health",
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("data")
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "PORT": str(port),
        "DATA_DIR": str(data_dir),
        "LOG_JSON": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "workplace_roleplay.web.gateway"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{base}/api/v2/chat/health", timeout_s=30, process=process)
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_every_service_answers_its_health_path(gateway: tuple[str, subprocess.Popen[bytes]], path: str) -> None:
    base, _ = gateway
    response = httpx.get(base + path)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_reports_the_embedded_store_and_cache(gateway: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = gateway
    body = httpx.get(f"{base}/api/v2/chat/ready").json()
    assert body["status"] == "ok"
    assert body["checks"]["store"]["backend"] == "sqlite"
    assert body["checks"]["cache"]["backend"] == "memory"


def test_home_page_is_japanese_html(gateway: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = gateway
    response = httpx.get(base + "/")
    assert response.status_code == 200
    assert "職場コミュニケーション練習" in response.text


def test_unclaimed_paths_get_a_clear_404(gateway: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = gateway
    response = httpx.get(base + "/api/legacy-only")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_metrics_are_exposed(gateway: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = gateway
    httpx.get(base + "/api/v2/watch")
    text = httpx.get(base + "/metrics").text
    assert 'http_requests_total{method="GET",route="/api/v2/watch",service="watch",status="200"}' in text


def test_ctrl_c_stops_cleanly(gateway: tuple[str, subprocess.Popen[bytes]]) -> None:
    # Runs last in this module (pytest keeps file order): it ends the shared process.
    _, process = gateway
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    output = process.stdout.read().decode() if process.stdout else ""
    assert "http://127.0.0.1:" in output
