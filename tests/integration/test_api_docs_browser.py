"""`/api/v2/<service>/docs` renders offline in Chromium under its strict CSP (issue 13, item 10).

Swagger UI's assets come from the service itself (a pinned package), never from a CDN: every request
that leaves the local gateway is aborted, and the page must still render the service's operations.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Route, expect, sync_playwright

from tests.support.chromium import LAUNCH_ARGS, require_chromium
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_gateway(tmp_path_factory.mktemp("data")) as url:
        yield url


def test_the_docs_page_loads_nothing_from_another_origin(base: str) -> None:
    page = httpx.get(f"{base}/api/v2/chat/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr.net" not in page.text
    assert "https://" not in page.text
    csp = page.headers["content-security-policy"]
    assert "https:" not in csp
    assert "unsafe-inline" not in csp
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"):
        assert f"/api/v2/chat/docs/assets/{asset}" in page.text
        served = httpx.get(f"{base}/api/v2/chat/docs/assets/{asset}")
        assert served.status_code == 200, asset
        assert len(served.content) > 1000


@pytest.mark.timeout(900)  # room for a first-time apt-get install chromium
@pytest.mark.parametrize("service", ["chat", "auth"])
def test_swagger_ui_renders_offline_without_csp_violations(base: str, service: str) -> None:
    executable = require_chromium()
    left_the_origin: list[str] = []
    console: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            left_the_origin.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", only_local)
            page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(f"{base}/api/v2/{service}/docs")
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("workplace-roleplay", timeout=20000)
            expect(page.locator(".opblock").first).to_be_visible(timeout=20000)
            assert page.locator(".opblock").count() >= 3
        finally:
            browser.close()
    assert left_the_origin == []
    assert [line for line in console if "script" in line.lower() or "pageerror" in line] == []
