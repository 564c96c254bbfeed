"""The scenario journey in a real headless Chromium (Japanese fonts installed): home → scenarios (a filter
through htmx) → a locked scenario → consent → back to its detail page, at phone and desktop size, without
a Content-Security-Policy violation. Screenshots of each step go to the test's folder, and to
``SCENARIO_SCREENSHOTS`` when set (``docs/screenshots/`` holds the reviewed ones)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
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
    assert len(list(shots.glob("*.png"))) == 5
    if target := os.environ.get("SCENARIO_SCREENSHOTS"):
        for png in shots.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)
