"""👍/👎 in the /chat page (real headless Chromium): on the opening line (rendered by htmx), on a streamed
reply (kit.js) and on the feedback report, with an optional reason; stored and read back over the API,
without a Content-Security-Policy violation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.integration.chat.test_chat_page_browser import REPLY, REPORT, _worth
from tests.support.chat_server import MODELS
from tests.support.chromium import LAUNCH_ARGS, require_chromium
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(fake_gemini: FakeGeminiControl, tmp_path: Path) -> Iterator[str]:
    env = {
        "GEMINI_API_KEY": "rating-test-key",
        "GEMINI_BASE_URL": fake_gemini.url,
        "MODEL_FLASH": str(MODELS["MODEL_FLASH"]),
        "MODEL_PRO": str(MODELS["MODEL_PRO"]),
        "MODEL_TASK_OVERRIDES": json.dumps(MODELS["MODEL_TASK_OVERRIDES"]),
        "MODEL_RETRY_ATTEMPTS": "1",
    }
    with run_gateway(tmp_path, **env) as base:
        yield base


@pytest.mark.timeout(900)
def test_rating_replies_and_the_report_in_the_page(gateway: str, fake_gemini: FakeGeminiControl) -> None:
    executable = require_chromium()
    fake_gemini.configure(text=REPLY, chunk_chars=8, chunk_delay_ms=20)
    fake_gemini.script("grader-model", {"kind": "ok", "text": json.dumps(REPORT, ensure_ascii=False)})
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(locale="ja-JP", viewport={"width": 390, "height": 844})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(gateway + "/chat")
            page.click("#setup-form button[type=submit]")
            opening = page.locator("#log li.counterpart").first
            expect(opening.locator(".rating")).to_have_count(1, timeout=15000)
            opening.locator("button[data-value=up]").click()
            expect(opening.locator(".rating-status")).to_have_text("ありがとうございます", timeout=15000)
            expect(opening.locator("button[data-value=up]")).to_have_attribute("aria-pressed", "true")
            opening.locator(".rating-reason input").fill("話しかけやすい")
            opening.locator(".rating-reason button").click()
            expect(opening.locator(".rating-reason")).to_be_hidden(timeout=15000)

            page.fill("#message", "週末は山に行きました。")
            page.click("#send")
            streamed = page.locator("#log li.counterpart").nth(1)
            expect(streamed.locator(".text")).to_have_text(REPLY, timeout=15000)
            expect(streamed.locator(".rating")).to_have_count(1, timeout=15000)
            streamed.locator("button[data-value=down]").click()
            expect(streamed.locator(".rating-status")).to_have_text("ありがとうございます", timeout=15000)

            expect(page.locator("#send")).to_be_enabled(timeout=15000)
            page.click("#feedback-button")
            card = page.locator("#review .feedback-card")
            expect(card.locator(".rating")).to_have_count(1, timeout=15000)
            card.locator("button[data-value=up]").click()
            expect(card.locator(".rating-status")).to_have_text("ありがとうございます", timeout=15000)

            cid = page.locator("#conversation").get_attribute("data-conversation-id")
            listed = page.request.get(f"{gateway}/api/v2/chat/conversations/{cid}/ratings").json()
        finally:
            browser.close()
    assert [(r["target"], r["value"], r["reason"]) for r in listed["ratings"]] == [
        ("reply", "up", "話しかけやすい"),
        ("reply", "down", ""),
        ("report", "up", ""),
    ]
    assert [line for line in console if "Content Security Policy" in line or "pageerror" in line] == [], console
    assert [line for line in console if line.startswith("error")] == [], console
