"""The learner pages on phones (360, 390 and 430 px, touch): axe-core on each page state, 16 px form
controls (no zoom on focus), 44x44 px tap targets, 14 px speaker names, a send hint for touch on one
line, nothing wider than the screen; plus the home page, /favicon.ico and the checker's own teeth."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.support.pagecheck import PHONE_WIDTHS, assert_accessible, axe_violations, prepare, size_problems

pytestmark = pytest.mark.integration


def phone(browser: Browser, width: int) -> Page:
    context = browser.new_context(
        locale="ja-JP", viewport={"width": width, "height": 800}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    prepare(context)
    return context.new_page()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("width", PHONE_WIDTHS)
def test_home_and_chat_fit_a_phone(gateway: str, browser: Browser, width: int) -> None:
    page = phone(browser, width)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    audited: list[str] = []

    page.goto(gateway + "/")
    assert page.locator('meta[name="description"]').get_attribute("content")
    assert size_problems(page) == []
    assert_accessible(page, "home", audited)

    page.goto(gateway + "/chat")
    assert size_problems(page) == []
    assert_accessible(page, "start form", audited)

    page.tap("#setup-form button[type=submit]")
    expect(page.locator("#log li.counterpart")).to_have_count(1, timeout=15000)
    page.fill("#message", "おはようございます。週末は山に行きました。")
    page.tap("#send")
    expect(page.locator("#log li.counterpart")).to_have_count(2, timeout=15000)
    expect(page.locator("#send")).to_be_enabled(timeout=15000)
    assert size_problems(page) == []
    # The touch hint, not the keyboard one, and on one line.
    hint = page.locator("#send-hint")
    assert page.locator("#send-hint .hint-touch").is_visible()
    assert not page.locator("#send-hint .hint-keys").is_visible()
    box = hint.bounding_box()
    assert box is not None
    assert box["height"] < 30, box
    assert_accessible(page, "conversation after a turn", audited)
    assert audited == ["home", "start form", "conversation after a turn"]
    page.context.close()
    assert [line for line in console if line.startswith("error") or "Content Security Policy" in line] == []


@pytest.mark.timeout(300)
def test_favicon_compression_and_immutable_scripts(gateway: str, browser: Browser) -> None:
    page = phone(browser, 390)
    page.goto(gateway + "/chat")
    icon = page.request.get(gateway + "/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    scripts = page.locator("script[src]").evaluate_all("(els) => els.map((e) => e.getAttribute('src'))")
    # htmx, kit.js and the 👍/👎 control's rating.js, each fingerprinted.
    assert sorted(src.rsplit("/", 1)[1].split(".")[0] for src in scripts) == ["htmx", "kit", "rating"]
    for src in scripts:
        response = page.request.get(gateway + src, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-encoding"] == "gzip"
    html = page.request.get(gateway + "/chat", headers={"Accept-Encoding": "gzip"})
    assert html.headers["content-encoding"] == "gzip"
    page.context.close()


@pytest.mark.timeout(300)
def test_the_checks_find_problems_when_there_are_some(gateway: str, browser: Browser) -> None:
    """The suite's checkers are not vacuous: a small, unlabeled, zooming control is caught by both."""
    page = phone(browser, 390)
    page.goto(gateway + "/chat")
    page.evaluate(
        """() => {
          const input = document.createElement("input");
          input.style.fontSize = "13px";
          input.style.width = "30px";
          document.querySelector("main").appendChild(input);
        }"""
    )
    assert {v["id"] for v in axe_violations(page)} >= {"label"}
    problems = size_problems(page)
    assert any(p.startswith("font 13px") for p in problems), problems
    assert any(p.startswith("target 30x") for p in problems), problems
    page.context.close()


def _worth(message: ConsoleMessage) -> bool:
    return message.type in ("error", "warning")
