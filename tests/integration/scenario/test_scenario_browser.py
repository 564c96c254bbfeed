"""The scenario journey in a real headless Chromium (Japanese fonts installed): home → scenarios (a filter
through htmx) → a locked scenario → consent → its detail page → play three turns with a hint, the mood
meter explained → report → rewind one line → compare, at phone and desktop size, without
a Content-Security-Policy violation. Screenshots of each step go to the test's folder, and to
``SCENARIO_SCREENSHOTS`` when set (``docs/screenshots/`` holds the reviewed ones)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from tests.support.chromium import LAUNCH_ARGS, require_chromium
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    with run_gateway(tmp_path) as base:
        yield base


def _worth(message: ConsoleMessage) -> bool:
    return message.type in ("error", "warning")


def _journey(page: Page, base: str, shots: Path, size: str) -> None:
    def shot(step: str) -> None:
        page.screenshot(path=str(shots / f"scenario-{size}-{step}.png"), full_page=False)

    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("職場コミュニケーション練習")
    shot("1-home")
    page.click("a[href='/scenarios']")  # signs in anonymously through the redirect, lands on the list
    expect(page.locator("h1")).to_have_text("シナリオ練習")
    expect(page.locator("#scenario-list .badge.lock").first).to_be_visible()
    shot("2-scenarios")
    page.select_option("select[name=difficulty]", "beginner")  # htmx swaps the list, pushes the URL
    expect(page.locator("#scenario-list .badge.lock")).to_have_count(0, timeout=15000)
    assert "difficulty=beginner" in page.url
    page.fill("#q", "ミス")
    expect(page.locator("#scenario-list")).not_to_contain_text("会費制の懇親会に誘われた", timeout=15000)
    expect(page.locator("#scenario-list")).to_contain_text("自分のミスを上司に報告する")
    assert "q=%E3%83%9F%E3%82%B9" in page.url
    shot("3-filtered")
    page.goto(base + "/scenarios?category=gray_zone")
    expect(page.locator(".tabs [aria-current=page]")).to_have_text("グレーゾーン")
    page.click("a[href='/scenarios/guidance_or_reprimand']")  # the detail redirects to the consent page
    expect(page.locator("h1")).to_have_text("ハラスメント防止・グレーゾーン研修への同意")
    shot("4-consent")
    page.click("#consent-form button[type=submit]")  # the checkbox is required: nothing is sent
    expect(page.locator("h1")).to_have_text("ハラスメント防止・グレーゾーン研修への同意")
    page.check("input[name=agree]")
    page.click("#consent-form button[type=submit]")  # hx-post, then HX-Redirect back to the scenario
    expect(page.locator("h1")).to_have_text("指導と叱責の境界線", timeout=15000)
    expect(page.locator("#cast")).to_be_visible()
    expect(page.locator("body")).to_contain_text("森 拓也")
    shot("5-detail")
    _play(page, shot)


LINES = (
    "お疲れさまです。先ほどの会議での言い方について、少しお話しさせてください。",
    "でも、あの言い方だと相手は萎縮してしまうと思います。",
    "申し訳ありません、言葉が強すぎました。次の面談では、事実を具体的に伝えるようにします。",
)


def _say(page: Page, line: str, learner_lines: int) -> None:
    page.fill("#message", line)
    page.click("#send")
    # After the turn htmx reloads the mood meter and the conversation (with a rewind button per line).
    expect(page.locator("#log .rewind")).to_have_count(learner_lines, timeout=20000)
    expect(page.locator("#log li.counterpart")).to_have_count(learner_lines, timeout=20000)


def _play(page: Page, shot: Callable[[str], None]) -> None:
    page.click("#start-play")  # hx-post, then HX-Redirect to the play page of the new session
    expect(page.locator("#brief-title")).to_be_visible(timeout=15000)
    expect(page.locator(".situation-card")).to_be_visible()  # the learner speaks first in this scenario
    shot("6-play")
    _say(page, LINES[0], 1)
    page.click("#hint-button")
    expect(page.locator("#hint-list li")).to_have_count(1)
    expect(page.locator("#hint-list")).to_contain_text("ひと押し")
    shot("7-hint")
    _say(page, LINES[1], 2)
    expect(page.locator(".meters .delta").first).to_be_visible()
    page.click("#mood-why summary")  # the meter explains the swing: the line and the rules that moved it
    expect(page.locator("#mood-why")).to_contain_text("言い訳や反論に聞こえた")
    shot("8-mood")
    _say(page, LINES[2], 3)
    page.click("#report-button")
    expect(page.locator("#report-title")).to_be_visible(timeout=20000)
    expect(page.locator("#report")).to_contain_text("使ったヒント（1回）")
    expect(page.locator("#report .timeline tbody tr")).to_have_count(4)
    shot("9-report")
    first_session = page.url
    page.locator("#log .rewind").nth(1).click()  # 「この発言からやり直す」 on the second line
    expect(page.locator(".brief .notice")).to_have_text("2番目の発言からやり直しています。", timeout=15000)
    assert page.url != first_session
    expect(page.locator("#log .rewind")).to_have_count(1)
    _say(page, "ご指摘の仕方について、一緒に言い方を考えさせていただけますか。", 2)
    page.click("#report-button")
    expect(page.locator("#report-title")).to_be_visible(timeout=20000)
    shot("10-rewind")
    page.click("#report a[href$='/compare']")
    expect(page.locator("h1")).to_have_text("やり直しと比べる")
    expect(page.locator(".compare section")).to_have_count(2)
    expect(page.locator(".compare")).not_to_contain_text("まだ振り返りを作っていません")
    shot("11-compare")
    page.goto(page.url.split("/scenarios/")[0] + "/")
    page.click("a[href='/progress']")
    expect(page.locator("#next-title")).to_be_visible()
    expect(page.locator("#sc-title")).to_be_visible()
    shot("12-progress")


# Room for a first-time `apt-get install chromium` on a fresh machine (the suite's default is 120 s).
@pytest.mark.timeout(900)
@pytest.mark.parametrize("size", list(SIZES))
def test_scenario_journey_in_chromium(gateway: str, tmp_path: Path, size: str) -> None:
    executable = require_chromium()
    console: list[str] = []
    shots = tmp_path / "shots"
    shots.mkdir()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(locale="ja-JP", viewport=SIZES[size])  # type: ignore[arg-type]
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            _journey(page, gateway, shots, size)
        finally:
            browser.close()
    assert [line for line in console if "Content Security Policy" in line or "pageerror" in line] == [], console
    assert len(list(shots.glob("*.png"))) == 12
    if target := os.environ.get("SCENARIO_SCREENSHOTS"):
        for png in shots.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)
