"""Identity in `make run` (embedded, no configuration): sign in at one service, be known by the others."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "PORT": str(port),
        "DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "LOG_JSON": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "workplace_roleplay.web.gateway"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{url}/api/v2/auth/health", timeout_s=30, process=process)
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


def test_token_from_the_identity_service_is_accepted_by_chat(base: str) -> None:
    signed = httpx.post(f"{base}/api/v2/auth/anonymous")
    assert signed.status_code == 201
    # Plain http locally: the Secure flag is relaxed, everything else is as in the cloud.
    access_cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("wr_access="))
    assert access_cookie.endswith("; Path=/; Max-Age=900; HttpOnly; SameSite=Lax")
    token = signed.json()["access_token"]
    conversations = httpx.get(f"{base}/api/v2/chat/conversations", headers={"Authorization": f"Bearer {token}"})
    assert conversations.status_code == 200
    assert httpx.get(f"{base}/api/v2/chat/conversations").status_code == 401
    assert signed.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_first_visit_to_a_page_signs_in_and_comes_back(base: str) -> None:
    with httpx.Client(base_url=base, headers={"Accept": "text/html"}, follow_redirects=True) as browser:
        page = browser.get("/chat")
        assert page.status_code == 200
        assert [r.status_code for r in page.history] == [303, 303]
        assert str(page.url).endswith("/chat?signed_in=1")
        assert {"wr_access", "wr_refresh", "wr_csrf"} <= set(browser.cookies.keys())
        me = browser.get("/api/v2/auth/me").json()
        assert me["auth"] == "cookie"
        again = browser.get("/chat")
        assert again.history == []  # signed in: no more redirects
