"""Errors a person reads (issue 13, item 9), through `make run`'s gateway and real process starts."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.local_gateway import run_gateway
from tests.support.processes import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_gateway(tmp_path_factory.mktemp("data")) as url:
        yield url


def test_a_path_no_service_serves_is_a_japanese_html_page_for_a_browser(base: str) -> None:
    page = httpx.get(f"{base}/no/such/page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "お探しのページやデータが見つかりませんでした。" in page.text
    assert '<html lang="ja">' in page.text
    nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", page.headers["content-security-policy"])
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in page.text  # styled under the strict CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-request-id"]
    assert page.headers["x-request-id"] in page.text


def test_api_clients_still_get_json_from_the_gateway(base: str) -> None:
    response = httpx.get(f"{base}/api/v9/nothing", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    plain = httpx.get(f"{base}/no/such/page")
    assert plain.json()["error"]["code"] == "not_found"


def test_a_missing_client_message_id_is_a_422_with_details(base: str) -> None:
    with httpx.Client(base_url=base, timeout=20) as client:
        token = client.post("/api/v2/auth/anonymous").json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        opened = client.post("/api/v2/chat", json={"partner_type": "senior"}, headers=headers)
        assert opened.status_code == 200, opened.text
        conversation_id = opened.json()["conversation_id"]
        response = client.post(
            "/api/v2/chat", json={"conversation_id": conversation_id, "message": "はい"}, headers=headers
        )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"] == [
        {"loc": ["body", "client_message_id"], "msg": "client_message_id is required with a message", "type": "missing"}
    ]


def test_someone_who_never_signed_in_is_not_told_their_login_expired(base: str) -> None:
    never = httpx.get(f"{base}/api/v2/chat/conversations")
    assert never.status_code == 401
    assert never.json()["error"]["code"] == "not_authenticated"
    assert "有効期限" not in never.json()["error"]["message"]
    assert never.json()["error"]["message"].startswith("ログインが必要です")
    # A browser that did sign in (its CSRF cookie lives 7 days) but whose 15-minute access cookie is gone.
    with httpx.Client(base_url=base) as browser:
        browser.post("/api/v2/auth/anonymous")
        browser.cookies.delete("wr_access")
        expired = browser.get("/api/v2/chat/conversations")
    assert expired.status_code == 401
    assert expired.json()["error"]["message"].startswith("ログインの有効期限が切れました")


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["-m", "workplace_roleplay.web.gateway"], id="make-run"),
        pytest.param(["-m", "uvicorn", "--factory", "functions.chat.main:create", "--port", "0"], id="cloud-run-entry"),
    ],
)
def test_an_invalid_setting_stops_startup_with_one_clear_line(tmp_path: Path, command: list[str]) -> None:
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "DATA_DIR": str(tmp_path),
        "ACCESS_TOKEN_TTL_S": "10",
        "PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    output = (done.stdout + done.stderr).strip()
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "ACCESS_TOKEN_TTL_S" in lines[0]
    assert "10" in lines[0]
    assert "60" in lines[0]  # what would be accepted
