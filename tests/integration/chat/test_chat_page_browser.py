"""The /chat page in a real headless Chromium: start (htmx form), send, watch the reply stream in (kit.js),
see the coaching card, summary and report (htmx), reopen and delete a past conversation, all without a
page reload and without a Content-Security-Policy violation (every script carries the nonce, htmx runs
without eval or injected styles, text is escaped); after a reload the page opens the active conversation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from tests.support.chat_server import MODELS
from tests.support.chromium import LAUNCH_ARGS, require_chromium
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration

REPLY = "いいですね。私も最近、週末に近くの公園を散歩するようにしているんですよ。"
CARD: dict[str, object] = {
    "sentiment": 0.5,
    "emotion": "楽しそう",
    "politeness": "polite",
    "politeness_fit": "good",
    "tone": "丁寧で明るい",
    "advice": "相手の週末についても質問してみましょう。",
    "better_phrasing": "週末は山に行きました。課長はどう過ごされましたか？",
}

SUMMARY: dict[str, object] = {
    "summary": "週末の山登りについて上司と話した。",
    "key_points": ["山登り"],
    "learning_points": ["質問を返す"],
}
REPORT: dict[str, object] = {
    "checks": [{"id": "P1", "passed": True, "evidence": "楽しかったです！"}],
    "strengths": ["前向きに話せた", "丁寧語を使えた"],
    "growth_points": ["質問を返す", "感想を添える"],
    "tomorrow_action": "朝の挨拶のあとにひと言質問を添える",
}


@pytest.fixture
def gateway_with_fake_model(fake_gemini: FakeGeminiControl, tmp_path: Path) -> Iterator[str]:
    env = {
        "GEMINI_API_KEY": "browser-test-key",
        "GEMINI_BASE_URL": fake_gemini.url,
        "MODEL_FLASH": str(MODELS["MODEL_FLASH"]),
        "MODEL_PRO": str(MODELS["MODEL_PRO"]),
        "MODEL_TASK_OVERRIDES": json.dumps(MODELS["MODEL_TASK_OVERRIDES"]),
        "MODEL_RETRY_ATTEMPTS": "1",
    }
    with run_gateway(tmp_path, **env) as base:
        yield base


def bubble_texts(page: Page) -> list[str]:
    return page.locator("#log li.counterpart .text").all_inner_texts()


# Room for a first-time `apt-get install chromium` on a fresh machine (the suite's default is 120 s).
@pytest.mark.timeout(900)
def test_chat_page_streams_and_coaches_without_csp_violations(
    gateway_with_fake_model: str, fake_gemini: FakeGeminiControl
) -> None:
    executable = require_chromium()
    fake_gemini.configure(text=REPLY, chunk_chars=3, chunk_delay_ms=120)
    fake_gemini.script("coach-model", {"kind": "ok", "text": json.dumps(CARD, ensure_ascii=False), "times": -1})
    fake_gemini.script("summary-model", {"kind": "ok", "text": json.dumps(SUMMARY, ensure_ascii=False)})
    fake_gemini.script("grader-model", {"kind": "ok", "text": json.dumps(REPORT, ensure_ascii=False)})
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(locale="ja-JP", viewport={"width": 390, "height": 844})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(gateway_with_fake_model + "/chat")  # signs in anonymously through the redirect
            assert page.locator("h1").inner_text() == "雑談練習"
            expect(page.locator("#history-list")).to_contain_text("まだ会話がありません")
            # From here on nothing reloads the page: htmx swaps fragments, kit.js streams the turn.
            navigations: list[str] = []
            page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
            page.select_option("select[name=partner_type]", "boss")
            page.click("#setup-form button[type=submit]")  # hx-post: the server renders the conversation view
            # Locators, not wait_for_function: the page's CSP rightly forbids the eval that one needs.
            expect(page.locator("#log li.counterpart")).to_have_count(1, timeout=15000)
            expect(page.locator("#send")).to_be_enabled(timeout=15000)
            assert bubble_texts(page) == [REPLY]
            assert page.locator("#log li.counterpart .speaker").inner_text() == "高橋課長"
            # The HX-Trigger of the start reloads the past-conversations list.
            expect(page.locator("#history-list [data-conversation]")).to_have_count(1, timeout=15000)

            page.fill("#message", "週末は山に行きました。\n<img src=x onerror=alert(1)>楽しかったです！")
            page.click("#send")
            seen: list[str] = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                texts = bubble_texts(page)
                if len(texts) == 2 and (not seen or seen[-1] != texts[1]):
                    seen.append(texts[1])
                if len(texts) == 2 and texts[1] == REPLY and page.locator("#coach").is_visible():
                    break
                time.sleep(0.03)
            partial = [t for t in seen if t and t != REPLY]
            assert len(partial) >= 3, f"the reply did not stream in: {seen}"
            assert all(REPLY.startswith(t) for t in partial)
            assert seen[-1] == REPLY
            assert page.locator("#coach-advice").inner_text() == CARD["advice"]
            assert str(CARD["better_phrasing"]) in page.locator("#coach-phrasing").inner_text()
            learner = page.locator("#log li.learner .text").inner_text()
            assert "<img src=x onerror=alert(1)>" in learner  # shown as text, never as markup
            assert page.locator("#log img").count() == 0

            page.click("#summary-button")  # hx-post, swaps the rendered card into #review
            expect(page.locator("#review .summary-card")).to_contain_text(str(SUMMARY["summary"]), timeout=15000)
            expect(page.locator("#review-loading")).to_be_hidden()
            page.click("#feedback-button")
            expect(page.locator("#review .feedback-card")).to_contain_text("明日試すこと", timeout=15000)
            expect(page.locator("#review")).to_contain_text("プロフェッショナリズム")
            expect(page.locator("#review")).to_contain_text(str(REPORT["tomorrow_action"]))

            # After the turn kit.js asks htmx to reload the list: the title is the learner's first line, as text.
            entry = page.locator("#history-list [data-conversation]").first
            expect(entry).to_contain_text("週末は山に行きました。", timeout=15000)
            page.click("#new-button")  # hx-get: the start form again
            expect(page.locator("#setup-form")).to_be_visible(timeout=15000)
            entry.click()  # hx-get: the past conversation opens with its lines
            expect(page.locator("#log li.learner")).to_have_count(1, timeout=15000)
            expect(page.locator("#log li.counterpart")).to_have_count(2)
            # ... with the summary and report made earlier, read back without a model call.
            expect(page.locator("#review .summary-card")).to_contain_text(str(SUMMARY["summary"]))
            expect(page.locator("#review .feedback-card")).to_contain_text(str(REPORT["tomorrow_action"]))
            assert "<img src=x onerror=alert(1)>" in page.locator("#log li.learner .text").inner_text()
            assert page.locator("#log img").count() == 0

            page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm asks before the hx-delete
            page.click("#delete-button")
            expect(page.locator("#panel")).to_contain_text("会話を削除しました", timeout=15000)
            expect(page.locator("#history-list [data-conversation]")).to_have_count(0, timeout=15000)
            expect(page.locator("#page-alert")).to_be_empty()
            assert navigations == [], f"the page reloaded: {navigations}"

            # A reload lands in the active conversation (server-rendered), where kit.js streams the next turn.
            page.click("#setup-form button[type=submit]")
            expect(page.locator("#conversation")).to_be_visible(timeout=15000)
            cid = page.locator("#conversation").get_attribute("data-conversation-id")
            page.reload()
            expect(page.locator("#conversation")).to_have_attribute("data-conversation-id", str(cid))
            expect(page.locator("#log li.counterpart")).to_have_count(1)
            page.fill("#message", "おはようございます")
            page.click("#send")
            expect(page.locator("#log li.counterpart")).to_have_count(2, timeout=15000)
            expect(page.locator("#log li.counterpart .text").last).to_have_text(REPLY, timeout=15000)
            expect(page.locator("#send")).to_be_enabled(timeout=15000)
            page.click("#new-button")  # 新しい会話を始める: the start form, one click away
            expect(page.locator("#setup-form")).to_be_visible(timeout=15000)
        finally:
            browser.close()
    violations = [line for line in console if "Content Security Policy" in line or "pageerror" in line]
    assert violations == [], violations
    assert [line for line in console if line.startswith("error")] == [], console


@pytest.mark.timeout(900)
def test_chat_page_shows_errors_in_japanese_without_a_reload(gateway_with_fake_model: str) -> None:
    executable = require_chromium()
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(locale="ja-JP", viewport={"width": 390, "height": 844})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(gateway_with_fake_model + "/chat")
            page.click("#setup-form button[type=submit]")
            expect(page.locator("#conversation")).to_be_visible(timeout=15000)
            expect(page.locator("#page-alert")).to_be_empty()
            cid = page.locator("#conversation").get_attribute("data-conversation-id")
            # The conversation disappears behind the page's back (another tab deleted it).
            token = next(c["value"] for c in page.context.cookies() if c["name"] == "wr_csrf")
            gone = page.request.delete(
                f"{gateway_with_fake_model}/api/v2/chat/conversations/{cid}", headers={"X-CSRF-Token": token}
            )
            assert gone.status == 204
            page.click("#summary-button")
            alert = page.locator("#page-alert [role=alert]")
            expect(alert).to_contain_text("会話が見つかりません", timeout=15000)
            expect(alert).to_contain_text("conversation_not_found")
            expect(page.locator("#conversation")).to_be_visible()  # the error did not replace the page
            page.click("#new-button")  # the next request that succeeds clears the alert
            expect(page.locator("#setup-form")).to_be_visible(timeout=15000)
            expect(page.locator("#page-alert")).to_be_empty()
        finally:
            browser.close()
    assert [line for line in console if "Content Security Policy" in line or "pageerror" in line] == [], console
    # The only errors are the 404 itself (Chromium's resource log and htmx's responseError log).
    unexpected = [line for line in console if line.startswith("error") and "404" not in line]
    assert unexpected == [], console


def _worth(message: ConsoleMessage) -> bool:
    return message.type in ("error", "warning")
