"""migrate_session's Cloud Run functions entry point, served by the real functions-framework."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def function_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path_factory.mktemp("fn-data")),
        "FUNCTION_TARGET": "migrate_session",
        "FUNCTION_SOURCE": str(ROOT / "functions" / "migrate_session" / "function.py"),
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "functions-framework"), "--debug"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{base}/api/v2/auth/health", timeout_s=45, process=process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_health_answers_through_the_function(function_url: str) -> None:
    body = httpx.get(f"{function_url}/api/v2/auth/health").json()
    assert body["status"] == "ok"
    assert body["service"] == "migrate-session"


def test_ready_runs_the_app_lifespan(function_url: str) -> None:
    body = httpx.get(f"{function_url}/api/v2/auth/ready").json()
    assert body["checks"]["store"] == {"status": "ok", "backend": "sqlite", "detail": ""}


def test_anonymous_sign_in_works_through_the_function(function_url: str) -> None:
    created = httpx.post(f"{function_url}/api/v2/auth/anonymous", json={})
    assert created.status_code == 201, created.text
    tokens = created.json()
    me = httpx.get(f"{function_url}/api/v2/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user_id"] == tokens["user_id"]
    assert "wr_access" in created.headers.get("set-cookie", "")


def test_errors_keep_their_status_and_json_body(function_url: str) -> None:
    response = httpx.get(f"{function_url}/api/v2/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_callers_never_share_cookies(function_url: str) -> None:
    # The function forwards through one shared client; one learner's cookies must not reach another.
    first = httpx.post(f"{function_url}/api/v2/auth/anonymous", json={})
    assert first.status_code == 201
    anonymous = httpx.get(f"{function_url}/api/v2/auth/me")
    assert anonymous.status_code == 401
