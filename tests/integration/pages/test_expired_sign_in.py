"""The chat page when the sign-in expires (issue 13, item 8), in Chromium with the shortest access-token
lifetime the settings allow (ACCESS_TOKEN_TTL_S=60, no leeway): the page refreshes the access token
with the refresh cookie and retries once, for the streamed turn and for htmx requests; the typed text
stays in the box until the server stored it (and survives a reload); no ``?signed_in=1`` residue and no
bare fragment URL in the address bar."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.integration.pages.conftest import model_env
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.local_gateway import run_gateway
from tests.support.pagecheck import axe_violations, focused, prepare

pytestmark = pytest.mark.integration

TTL_S = 60  # the minimum ACCESS_TOKEN_TTL_S accepts
REPLY = "お疲れさまです。週末はどうでしたか。"


@pytest.fixture
def short_lived_gateway(fake_gemini: FakeGeminiControl, tmp_path: Path) -> Iterator[str]:
    env = {**model_env(fake_gemini), "ACCESS_TOKEN_TTL_S": str(TTL_S), "JWT_LEEWAY_S": "0"}
    with run_gateway(tmp_path, **env) as base:
        yield base


def cookie_names(context: BrowserContext) -> set[str]:
    return {c["name"] for c in context.cookies()}


@pytest.mark.timeout(900)
def test_an_expired_sign_in_is_refreshed_and_no_typed_text_is_lost(
    short_lived_gateway: str, fake_gemini: FakeGeminiControl, browser: Browser
) -> None:
    base = short_lived_gateway
    fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=20)
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    prepare(context)
    page = context.new_page()
    navigations: list[str] = []
    page.goto(base + "/chat")
    assert page.url == base + "/chat"  # the sign-in redirect left no ?signed_in=1 behind
    page.click("#setup-form button[type=submit]")
    expect(page.locator("#log li.counterpart")).to_have_count(1, timeout=15000)
    cid = page.locator("#conversation").get_attribute("data-conversation-id")
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)

    # 1. The access cookie expires for real (Max-Age = token lifetime) while the learner types.
    page.fill("#message", "長い文章を書いているうちに時間が経ってしまいました。")
    deadline = time.monotonic() + TTL_S + 30
    while "wr_access" in cookie_names(context) and time.monotonic() < deadline:
        time.sleep(1)
    assert "wr_access" not in cookie_names(context), "the access cookie did not expire"
    page.click("#send")
    expect(page.locator("#log li.counterpart")).to_have_count(2, timeout=20000)
    expect(page.locator("#log li.counterpart .text").last).to_have_text(REPLY, timeout=20000)
    expect(page.locator("#message")).to_have_value("", timeout=10000)  # cleared only once stored
    expect(page.locator("#status")).to_be_hidden()
    assert "wr_access" in cookie_names(context)  # refreshed with the refresh cookie

    # 2. htmx requests: a POST (the summary) and a GET (the past-conversations list) retry after a refresh,
    # and the retried request still moves focus to the new card.
    context.clear_cookies(name="wr_access")
    page.focus("#summary-button")
    page.keyboard.press("Enter")
    expect(page.locator("#review .summary-card")).to_be_visible(timeout=15000)
    expect(page.locator("#summary-title")).to_be_focused(timeout=5000)
    context.clear_cookies(name="wr_access")
    page.click("#new-button")
    expect(page.locator("#setup-form")).to_be_visible(timeout=15000)
    context.clear_cookies(name="wr_access")
    page.locator("#history-list").evaluate("(el) => window.htmx.trigger(document.body, 'chat-history-changed')")
    expect(page.locator("#history-list [data-conversation]")).to_contain_text("長い文章", timeout=15000)
    expect(page.locator("#page-alert")).to_be_empty()
    assert navigations == [], navigations  # never a bare /chat/history?signed_in=1

    # 3. A reload without the access cookie goes through the sign-in redirect (same learner, via the refresh
    # cookie) and lands on /chat itself, with the unsent draft back in the box.
    page.locator(f'#history-list [data-conversation="{cid}"]').click()
    expect(page.locator("#conversation")).to_have_attribute("data-conversation-id", str(cid), timeout=15000)
    page.fill("#message", "送る前に再読み込みしてしまった文")
    context.clear_cookies(name="wr_access")
    page.reload()
    assert page.url == base + "/chat"
    expect(page.locator("#conversation")).to_have_attribute("data-conversation-id", str(cid))
    expect(page.locator("#message")).to_have_value("送る前に再読み込みしてしまった文")

    # 4. No way to refresh (both tokens gone): the turn is refused, the text stays, nothing pretends it was sent.
    context.clear_cookies(name="wr_access")
    context.clear_cookies(name="wr_refresh")
    lines = page.locator("#log li").count()
    page.click("#send")
    expect(page.locator("#status")).to_be_visible(timeout=15000)
    expect(page.locator("#status")).to_contain_text("ログイン")
    expect(page.locator("#message")).to_have_value("送る前に再読み込みしてしまった文")
    expect(page.locator("#log li")).to_have_count(lines)
    # ... and the page offers to sign in again instead of leaving on its own.
    expect(page.locator("#page-alert [role=alert]")).to_contain_text("ログインの有効期限が切れました")
    expect(page.locator("#page-alert a")).to_have_attribute("href", "/api/v2/auth/start?next=%2Fchat")
    assert page.url == base + "/chat"
    assert axe_violations(page) == []  # the sign-in-again card is a page state too
    assert focused(page) in ("textarea#message", "button#send")
    context.close()
