"""The chat page by keyboard only, in Chromium with Japanese fonts: axe-core (WCAG 2.2 AA + best
practices) on every page state, where focus lands after each action, the live-region contract (each
completed reply announced once, 「返答を作成中」 while streaming, nothing nested, the list not live) and
the visible focus style; the strict CSP stays on throughout."""

from __future__ import annotations

import json
import time
from itertools import pairwise

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.pagecheck import (
    announcements,
    assert_accessible,
    focused,
    live_region_problems,
    prepare,
    tab_to,
)

pytestmark = pytest.mark.integration

REPLY = "いいですね。私も最近、週末に近くの公園を散歩するようにしているんですよ。"
SPEAKER = "佐藤さん"  # the default partner (同僚)
CARD = {
    "sentiment": 0.5,
    "emotion": "楽しそう",
    "politeness": "polite",
    "politeness_fit": "good",
    "tone": "丁寧で明るい",
    "advice": "相手の週末についても質問してみましょう。",
    "better_phrasing": "週末は山に行きました。佐藤さんはどう過ごされましたか？",
}
SUMMARY = {"summary": "週末の山登りについて話した。", "key_points": ["山登り"], "learning_points": ["質問を返す"]}
REPORT = {
    "checks": [{"id": "P1", "passed": True, "evidence": "楽しかったです！"}],
    "strengths": ["前向きに話せた"],
    "growth_points": ["質問を返す"],
    "tomorrow_action": "朝の挨拶のあとにひと言質問を添える",
}
STATES = [
    "start form",
    "conversation opened",
    "after a streamed turn with the coach card",
    "a reply in simple mode with its notice",
    "a refused line",
    "summary card",
    "feedback card",
    "start form again with the history",
    "reopened conversation with its cards",
    "deleted",
    "error card in the page",
    "error page",
]


def wait_for_announcements(page: Page, count: int) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = announcements(page)
        if len(seen) >= count:
            time.sleep(0.3)  # anything extra would show up now
            return announcements(page)
        time.sleep(0.05)
    return announcements(page)


def press_and_expect_focus(page: Page, key: str, expected: str, ready: str) -> None:
    page.keyboard.press(key)
    expect(page.locator(ready).first).to_be_visible(timeout=15000)
    deadline = time.monotonic() + 5
    while focused(page) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert focused(page) == expected


@pytest.mark.timeout(900)
def test_chat_by_keyboard_passes_axe_moves_focus_and_announces_each_reply_once(
    gateway: str, fake_gemini: FakeGeminiControl, browser: Browser
) -> None:
    fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=150)
    fake_gemini.script("coach-model", {"kind": "ok", "text": json.dumps(CARD, ensure_ascii=False), "times": -1})
    fake_gemini.script("summary-model", {"kind": "ok", "text": json.dumps(SUMMARY, ensure_ascii=False)})
    fake_gemini.script("grader-model", {"kind": "ok", "text": json.dumps(REPORT, ensure_ascii=False)})
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    prepare(context)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    audited: list[str] = []

    page.goto(gateway + "/chat")
    assert page.url == gateway + "/chat"  # no ?signed_in=1 left from the sign-in redirect
    assert_accessible(page, "start form", audited)
    # The first Tab reaches the skip link, which takes the keyboard past the header.
    page.keyboard.press("Tab")
    assert focused(page) == "a.skip-link"
    page.keyboard.press("Enter")
    assert focused(page) == "main#main"

    # 会話を始める -> the composer (the partner's opening line is announced once).
    tab_to(page, "#setup-form button[type=submit]")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style == ["solid", "3px"], style  # the visible focus indicator
    press_and_expect_focus(page, "Enter", "textarea#message", "#conversation")
    assert wait_for_announcements(page, 1) == [f"{SPEAKER}：{REPLY}"]
    assert live_region_problems(page) == []
    assert page.locator("#send-hint .hint-keys").is_visible()  # a keyboard hint on a desktop
    assert not page.locator("#send-hint .hint-touch").is_visible()
    assert_accessible(page, "conversation opened", audited)

    # Ctrl+Enter sends: 「返答を作成中」 while the reply streams, then the reply is announced once and
    # focus stays in the (emptied) composer.
    page.keyboard.type("週末は山に行きました。")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#turn-status")).to_have_text("返答を作成中…", timeout=5000)
    expect(page.locator("#log li.counterpart")).to_have_count(2, timeout=15000)
    assert page.locator("#message").input_value() == "週末は山に行きました。"  # kept until stored
    expect(page.locator("#send")).to_be_enabled(timeout=20000)
    expect(page.locator("#coach")).to_be_visible(timeout=10000)
    expect(page.locator("#turn-status")).to_have_text("")
    assert focused(page) == "textarea#message"
    assert page.locator("#message").input_value() == ""
    assert wait_for_announcements(page, 2) == [f"{SPEAKER}：{REPLY}"] * 2
    assert live_region_problems(page) == []
    assert page.locator("#log[aria-live], #panel[aria-live], #review[aria-live]").count() == 0
    assert_accessible(page, "after a streamed turn with the coach card", audited)

    # Both models fail: the reply comes from the simple-response mode, with its notice in #status
    # (role=status); the reply is announced once like any other.
    fake_gemini.script("chat-flash", {"kind": "status", "status": 400})
    fake_gemini.script("chat-pro", {"kind": "status", "status": 400})  # the route's fallback model
    page.keyboard.type("もう一度話しかけます。")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#status")).to_contain_text("簡易応答", timeout=15000)
    expect(page.locator("#send")).to_be_enabled(timeout=15000)
    simple = page.locator("#log li.counterpart .text").last.inner_text()
    assert wait_for_announcements(page, 3) == [f"{SPEAKER}：{REPLY}"] * 2 + [f"{SPEAKER}：{simple}"]
    assert_accessible(page, "a reply in simple mode with its notice", audited)

    # A refused line: the error in #status, the text still in the box, focus in the box, nothing announced.
    page.keyboard.type("死ね")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#status.error")).to_be_visible(timeout=15000)
    expect(page.locator("#send")).to_be_enabled(timeout=15000)
    assert page.locator("#message").input_value() == "死ね"
    assert focused(page) == "textarea#message"
    assert len(wait_for_announcements(page, 4)) == 3
    assert_accessible(page, "a refused line", audited)
    page.locator("#message").fill("")

    # 要約を見る / フィードバックを受ける -> the new card's heading.
    tab_to(page, "#summary-button")
    press_and_expect_focus(page, "Enter", "h3#summary-title", "#review .summary-card")
    assert_accessible(page, "summary card", audited)
    tab_to(page, "#feedback-button", backwards=True)
    press_and_expect_focus(page, "Enter", "h3#feedback-title", "#review .feedback-card")
    assert_accessible(page, "feedback card", audited)
    # Headings in order: h1 -> h2 (conversation) -> h3 (cards) -> h4.
    levels = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4')].map(h => +h.tagName[1])")
    assert all(b - a <= 1 for a, b in pairwise(levels)), levels

    # 新しい会話を始める -> the start form's heading; a past conversation -> its composer.
    tab_to(page, "#new-button", backwards=True)
    press_and_expect_focus(page, "Enter", "h2#setup-title", "#setup-form")
    expect(page.locator("#history-list [data-conversation]")).to_have_count(1, timeout=15000)
    assert_accessible(page, "start form again with the history", audited)
    tab_to(page, "#history-list [data-conversation]")
    press_and_expect_focus(page, "Enter", "textarea#message", "#review .feedback-card")
    assert_accessible(page, "reopened conversation with its cards", audited)

    # 削除 (confirmed) -> the start form's heading, with the notice.
    page.once("dialog", lambda dialog: dialog.accept())
    tab_to(page, "#delete-button")
    press_and_expect_focus(page, "Enter", "h2#setup-title", "#setup .notice")
    assert_accessible(page, "deleted", audited)

    # An error of an htmx request: the Japanese card in #page-alert (role=alert, not nested).
    tab_to(page, "#setup-form button[type=submit]")
    press_and_expect_focus(page, "Enter", "textarea#message", "#conversation")
    cid = page.locator("#conversation").get_attribute("data-conversation-id")
    token = next(c["value"] for c in context.cookies() if c["name"] == "wr_csrf")
    assert page.request.delete(f"{gateway}/api/v2/chat/conversations/{cid}", headers={"X-CSRF-Token": token}).ok
    tab_to(page, "#summary-button")
    page.keyboard.press("Enter")
    expect(page.locator("#page-alert [role=alert]")).to_contain_text("会話が見つかりません", timeout=15000)
    assert live_region_problems(page) == []
    assert_accessible(page, "error card in the page", audited)
    # ... and the second conversation's opening line was announced once.
    assert wait_for_announcements(page, 4) == [f"{SPEAKER}：{REPLY}"] * 2 + [
        f"{SPEAKER}：{simple}",
        f"{SPEAKER}：{REPLY}",
    ]

    page.goto(f"{gateway}/chat/conversations/{cid}")  # a browser asking for a fragment that is gone
    expect(page.locator(".error-card h1")).to_be_visible()
    assert_accessible(page, "error page", audited)
    assert audited == STATES
    context.close()
    assert [line for line in console if "Content Security Policy" in line or "pageerror" in line] == [], console
    # The only errors are Chromium's logs of the refused line (422) and of the vanished conversation (404).
    unexpected = [line for line in console if line.startswith("error") and not ("404" in line or "422" in line)]
    assert unexpected == [], console


def _worth(message: ConsoleMessage) -> bool:
    return message.type in ("error", "warning")
