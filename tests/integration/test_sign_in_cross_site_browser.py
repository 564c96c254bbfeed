"""Login CSRF in a real browser (issue 13, item 1): another site's auto-submitting form cannot replace
the learner's identity; Chromium sends Origin and Sec-Fetch-Site, and the sign-in route refuses it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright

from tests.support.chromium import LAUNCH_ARGS, require_chromium
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_gateway(tmp_path_factory.mktemp("data")) as url:
        yield url


@pytest.fixture
def attacker(base: str) -> Iterator[str]:
    """A page on another origin (localhost vs 127.0.0.1) that posts a form to our sign-in route."""
    page = (
        f'<html><body><form id="f" method="post" action="{base}/api/v2/auth/anonymous">'
        '<input name="x" value="1"></form><script>document.getElementById("f").submit()</script></body></html>'
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(900)  # room for a first-time apt-get install chromium
def test_a_cross_site_form_cannot_replace_the_signed_in_learner(base: str, attacker: str) -> None:
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{base}/api/v2/auth/start?next=/api/v2/auth/me")  # signs in through the redirect
            mine = page.evaluate("() => JSON.parse(document.body.innerText).user_id")
            with page.expect_response(f"{base}/api/v2/auth/anonymous") as posted:
                page.goto(attacker)
            assert posted.value.status == 403
            assert posted.value.json()["error"]["code"] == "cross_site_refused"
            assert posted.value.headers.get("set-cookie") is None
            page.goto(f"{base}/api/v2/auth/me")
            assert page.evaluate("() => JSON.parse(document.body.innerText).user_id") == mine
        finally:
            browser.close()
