"""A browser holding only a legacy ``session`` cookie opens /chat (make run's gateway, headless Chromium):
it is migrated on the spot and sees its legacy chat, as the same learner."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.chromium import LAUNCH_ARGS, require_chromium
from tests.support.legacy import filesystem_legacy, realistic_session
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration
UID = "ecd0938e-1430-4046-92aa-5385295c708a"


@pytest.mark.timeout(900)
def test_a_legacy_browser_opens_chat_and_sees_its_migrated_conversation(tmp_path: Path) -> None:
    executable = require_chromium()
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session(user_id=UID))
    data = tmp_path / "data"
    data.mkdir()
    with run_gateway(data, LEGACY_SESSION_SOURCE=f"filesystem:{sessions}") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(locale="ja-JP")
            context.add_cookies([{"name": "session", "value": cookie, "url": base, "httpOnly": True}])
            page = context.new_page()
            page.goto(f"{base}/chat")
            log = page.locator("#log")
            expect(log.locator("li.counterpart .text").first).to_have_text("お疲れさまです！今日は忙しかったですか？")
            expect(log.locator("li.learner .text").first).to_have_text("質問0ですか？")
            assert "[雑談開始]" not in log.inner_text()  # the opening marker is not shown as learner text
            assert page.url.startswith(f"{base}/chat")
            names = {c["name"] for c in context.cookies()}
            assert {"wr_access", "wr_csrf", "session"} <= names  # v2 cookies added; the legacy one untouched
            access = next(c["value"] for c in context.cookies() if c["name"] == "wr_access")
        finally:
            browser.close()
        me = httpx.get(f"{base}/api/v2/auth/me", headers={"Authorization": f"Bearer {access}"})
        assert me.json()["user_id"] == UID
