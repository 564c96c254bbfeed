"""The scenario play page on a phone (390 px, touch): axe-core on each state (play, after a turn with a hint and
the mood explained, report, compare) and the progress page, tap targets and widths, no console error or CSP
violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.support.pagecheck import assert_accessible, prepare, size_problems

pytestmark = pytest.mark.integration


def _worth(message: ConsoleMessage) -> bool:
    return message.type in ("error", "warning")


@pytest.mark.timeout(900)
def test_the_play_page_is_accessible_on_a_phone(gateway: str, browser: Browser) -> None:
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    prepare(context)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    audited: list[str] = []

    page.goto(gateway + "/scenarios/report_own_mistake")
    page.tap("#start-play")
    expect(page.locator("#brief-title")).to_be_visible(timeout=15000)
    assert size_problems(page) == []
    assert_accessible(page, "play", audited)

    page.fill("#message", "ご報告があります。請求書の金額を一桁間違えて送ってしまいました。申し訳ありません。")
    page.tap("#send")
    expect(page.locator("#log .rewind")).to_have_count(1, timeout=20000)
    page.tap("#hint-button")
    expect(page.locator("#hint-list li")).to_have_count(1)
    page.tap("#mood-why summary")
    expect(page.locator("#mood-why p").first).to_be_visible()
    assert size_problems(page) == []
    assert_accessible(page, "after a turn, hint, mood explained", audited)

    page.tap("#report-button")
    expect(page.locator("#report-title")).to_be_visible(timeout=20000)
    assert size_problems(page) == []
    assert_accessible(page, "report", audited)

    page.tap("#report a[href$='/compare']")
    expect(page.locator(".compare section")).to_have_count(1)
    assert size_problems(page) == []
    assert_accessible(page, "compare", audited)
    page.goto(gateway + "/progress")
    expect(page.locator("#next-title")).to_be_visible()
    assert size_problems(page) == []
    assert_accessible(page, "progress", audited)
    assert audited == ["play", "after a turn, hint, mood explained", "report", "compare", "progress"]
    context.close()
    assert [line for line in console if line.startswith("error") or "Content Security Policy" in line] == []
