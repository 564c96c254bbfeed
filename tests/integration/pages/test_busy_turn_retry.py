"""A turn refused as busy (503 server_busy, Retry-After) in a real Chromium: the chat page and the scenario play
page show 「ただいま混雑しています」 with a countdown, keep the typed text, and send the same turn again by
themselves after Retry-After; a bounded number of times, then a message with the text still in the box.

The gateway runs with ``ADMISSION_MAX_IN_FLIGHT=1``; a slot is held by a turn of the same learner started from
outside the page (the fake model keeps it waiting for its first token). Screenshots of the busy state at
390x844 and at a desktop size go to docs/screenshots/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize, expect

from tests.integration.pages.conftest import model_env
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.local_gateway import run_gateway
from tests.support.pagecheck import assert_accessible, prepare

pytestmark = pytest.mark.integration

SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PHONE_SIZE: ViewportSize = {"width": 390, "height": 844}
PHONE: dict[str, Any] = {"viewport": PHONE_SIZE, "is_mobile": True, "has_touch": True}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
REPLY = "お疲れさまです。混雑していましたね。"
RETRY_AFTER_S = 2


@pytest.fixture
def busy_gateway(fake_gemini: FakeGeminiControl, tmp_path: Path) -> Iterator[str]:
    """``make run``'s gateway with room for one model call per service at a time."""
    env = {**model_env(fake_gemini), "ADMISSION_MAX_IN_FLIGHT": "1", "ADMISSION_RETRY_AFTER_S": str(RETRY_AFTER_S)}
    with run_gateway(tmp_path, **env) as base:
        yield base


def _worth(message: ConsoleMessage) -> bool:
    # Chromium logs every non-2xx fetch as a resource error; the 503s are the subject of this test.
    return message.type in ("error", "warning") and "503" not in message.text


class Holder:
    """A turn that holds the one admission slot while the fake model waits ``ttft_ms`` before its first token."""

    def __init__(self, base: str, context: BrowserContext, url: str, body: dict[str, Any]) -> None:
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        self._client = httpx.Client(base_url=base, cookies=cookies, timeout=60.0)
        self._request = (url, body, {"X-CSRF-Token": cookies["wr_csrf"], "Accept": "text/event-stream"})
        self.status = 0
        self.tail = ""
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        url, body, headers = self._request
        with self._client.stream("POST", url, json=body, headers=headers) as response:
            self.status = response.status_code
            for text in response.iter_text():
                self.tail = (self.tail + text)[-400:]

    def start(self, fake_gemini: FakeGeminiControl, ttft_ms: int) -> Holder:
        fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=20, ttft_ms=ttft_ms)
        before = fake_gemini.stats()["in_flight"]
        self._thread.start()
        held = fake_gemini.wait_for("in_flight", before + 1, timeout_s=15)["in_flight"] == before + 1
        assert held, f"the holding turn did not reach the model: {self.status} {self.tail}"
        # The page's own turn answers at once once admitted.
        fake_gemini.configure(ttft_ms=0)
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def finish(self, timeout_s: float = 60) -> None:
        self._thread.join(timeout_s)
        self._client.close()
        assert self.status == 200, (self.status, self.tail)
        assert "event: done" in self.tail, self.tail


def _turns_with(fake_gemini: FakeGeminiControl, text: str) -> int:
    """Streamed model calls whose prompt carries ``text`` (the refused sends never reach the model)."""
    return sum(1 for r in fake_gemini.requests(method="streamGenerateContent") if text in str(r["body"]))


def _busy_then_sent(page: Page, fake_gemini: FakeGeminiControl, holder: Holder, text: str, shot: str) -> None:
    """Send ``text`` while ``holder`` has the slot: the countdown shows, then the same turn goes through."""
    learners = page.locator("#log li.learner").count()
    page.fill("#message", text)
    page.click("#send")
    status = page.locator("#status")
    expect(status).to_contain_text("ただいま混雑しています", timeout=15000)
    expect(status).to_contain_text("秒後に自動でもう一度送信します")
    expect(status.locator(".countdown")).to_contain_text("秒")
    expect(page.locator("#message")).to_have_value(text)  # the learner's text stays in the composer
    expect(page.locator("#send")).to_be_disabled()
    page.screenshot(path=str(SHOTS / f"busy-{shot}-phone.png"))
    page.set_viewport_size(DESKTOP)
    expect(status).to_contain_text("ただいま混雑しています")
    page.screenshot(path=str(SHOTS / f"busy-{shot}-desktop.png"))
    page.set_viewport_size(PHONE_SIZE)
    holder.finish()
    # The automatic resend after Retry-After streams the reply; the box empties only now.
    expect(page.locator("#message")).to_have_value("", timeout=30000)
    expect(page.locator("#send")).to_be_enabled(timeout=15000)
    expect(status).not_to_contain_text("混雑")
    expect(page.locator("#log li.learner")).to_have_count(learners + 1)
    expect(page.locator("#log li.learner .text").last).to_have_text(text)
    assert _turns_with(fake_gemini, text) == 1, "the refused sends reached the model"


def _busy_until_given_up(page: Page, holder: Holder, text: str) -> None:
    """The slot stays taken past every retry: a message, the text still in the box, the composer usable."""
    learners = page.locator("#log li.learner").count()
    page.fill("#message", text)
    page.click("#send")
    expect(page.locator("#status")).to_contain_text("（4/4回目）", timeout=30000)
    expect(page.locator("#status")).to_contain_text("混雑が続いています", timeout=30000)
    expect(page.locator("#message")).to_have_value(text)
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#log li.learner")).to_have_count(learners)  # nothing half-sent is left in the log
    assert holder.running, "the slot was meant to stay taken throughout"
    assert "event: done" not in holder.tail


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(locale="ja-JP", device_scale_factor=2, **PHONE)
    prepare(context)
    return context


@pytest.mark.timeout(900)
def test_the_chat_page_waits_out_a_busy_service_and_sends_again(
    busy_gateway: str, browser: Browser, fake_gemini: FakeGeminiControl
) -> None:
    context = _context(browser)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=20, ttft_ms=0)
    page.goto(busy_gateway + "/chat")
    page.click("#setup-form button[type=submit]")
    expect(page.locator("#conversation")).to_be_visible(timeout=15000)
    expect(page.locator("#send")).to_be_enabled(timeout=15000)

    # Another conversation of this learner (another tab) holds the slot for 5 s: the page waits, then sends.
    holder = Holder(busy_gateway, context, "/api/v2/chat", {"partner_type": "senior"}).start(fake_gemini, 5000)
    _busy_then_sent(page, fake_gemini, holder, "週末は山に行きました。", "chat")
    audited: list[str] = []
    assert_accessible(page, "after a busy turn", audited)

    # Held longer than every retry (1 + 4 sends, 2 s apart): the page gives up and keeps the text.
    long = Holder(busy_gateway, context, "/api/v2/chat", {"partner_type": "senior"}).start(fake_gemini, 25000)
    _busy_until_given_up(page, long, "来週の会議の件でご相談があります。")
    context.close()
    problems = [line for line in console if "Content Security Policy" in line or line.startswith(("error", "page"))]
    assert problems == [], console


@pytest.mark.timeout(900)
def test_the_scenario_play_page_waits_out_a_busy_service_and_sends_again(
    busy_gateway: str, browser: Browser, fake_gemini: FakeGeminiControl
) -> None:
    context = _context(browser)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=20, ttft_ms=0)
    page.goto(busy_gateway + "/scenarios/report_own_mistake")
    page.tap("#start-play")
    expect(page.locator("#brief-title")).to_be_visible(timeout=15000)
    expect(page.locator("#send")).to_be_enabled(timeout=15000)

    # The slot is the scenario service's own (a chat turn would not take it): a second session holds it.
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    started = httpx.post(
        busy_gateway + "/api/v2/scenarios/report_own_mistake/sessions",
        json={"coaching": False},
        cookies=cookies,
        headers={"X-CSRF-Token": cookies["wr_csrf"]},
        timeout=30,
    )
    assert started.status_code == 201, started.text
    session = started.json()
    turns = f"/api/v2/scenarios/sessions/{session['session']['id']}/turns"
    # The counterpart speaks first in this scenario: its opening is a model call like a learner's line.
    line = {} if session["opening_pending"] else {"message": "失礼します。", "client_message_id": "holder-1"}
    holder = Holder(busy_gateway, context, turns, line).start(fake_gemini, 5000)
    text = "ご報告があります。請求書の金額を間違えて送ってしまいました。"
    _busy_then_sent(page, fake_gemini, holder, text, "scenario")
    context.close()
    problems = [line for line in console if "Content Security Policy" in line or line.startswith(("error", "page"))]
    assert problems == [], console
