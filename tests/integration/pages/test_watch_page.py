"""The /watch page in Chromium, on a phone (390x844, touch) and a desktop: start a run, four lines stream with the
speakers' names, pause, answer the quiz (result and explanation), join with a line and both characters react, stop;
axe-core on each state, sizes on the phone, no console error or CSP violation; screenshots in docs/screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.support.pagecheck import assert_accessible, prepare, size_problems

pytestmark = pytest.mark.integration

SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}


def _worth(message: ConsoleMessage) -> bool:
    return message.type in ("error", "warning")


def _checked(page: Page, state: str, audited: list[str], device: str, phone: bool) -> None:
    if phone:
        assert size_problems(page) == []
    assert_accessible(page, state, audited)
    page.screenshot(path=str(SHOTS / f"watch-{device}-{state}.png"), full_page=True)


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("device", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_watch_run_on_the_page(gateway: str, browser: Browser, device: str, options: dict[str, Any]) -> None:
    context = browser.new_context(locale="ja-JP", device_scale_factor=2 if device == "phone" else 1, **options)
    prepare(context)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    audited: list[str] = []
    phone = device == "phone"
    click = page.tap if phone else page.click

    page.goto(gateway + "/watch")
    expect(page.locator("#setup-title")).to_be_visible()
    _checked(page, "start", audited, device, phone)

    page.select_option("#situation", "lunch")
    click("#start-button")
    log = page.locator("#watch-log li.counterpart")
    expect(log).to_have_count(1, timeout=60000)
    click("#play-button")  # 一時停止: the line being spoken finishes, then the run waits
    expect(page.locator("#play-button")).to_have_text("再生", timeout=20000)
    expect(page.locator("#status")).to_contain_text("一時停止中")
    spoken = log.count()
    page.wait_for_timeout(1500)
    assert log.count() == spoken
    click("#play-button")
    expect(log).to_have_count(4, timeout=60000)
    expect(page.locator("#quiz")).to_be_visible(timeout=30000)
    names = log.locator(".speaker").all_inner_texts()
    assert set(names) == {"太郎さん", "花子さん"}
    assert all(text.strip() for text in log.locator(".text").all_inner_texts())
    assert page.evaluate("document.body.dataset.transport") == "ws"

    expect(page.locator("#play-button")).to_have_text("再生")
    expect(page.locator("#leave-button")).to_be_hidden()
    _checked(page, "quiz", audited, device, phone)

    click("#quiz-choices button >> nth=0")
    expect(page.locator("#quiz-result .verdict")).to_be_visible(timeout=20000)
    assert page.locator("#quiz-choices button.correct").count() == 1
    _checked(page, "quiz-result", audited, device, phone)

    page.fill("#join-text", "お二人とも、お昼は何を食べる予定ですか？")
    click("#join-button")
    expect(page.locator("#watch-log li.learner")).to_have_count(1)
    expect(log).to_have_count(6, timeout=60000)
    reacted = log.locator(".speaker").all_inner_texts()[4:]
    assert set(reacted) == {"太郎さん", "花子さん"}
    expect(page.locator("#leave-button")).to_be_visible()
    _checked(page, "joined", audited, device, phone)

    click("#stop-button")
    expect(page.locator("#status")).to_have_text("観戦を終了しました。")
    assert audited == ["start", "quiz", "quiz-result", "joined"]
    context.close()
    assert [line for line in console if line.startswith("error") or "Content Security Policy" in line] == []


# Every socket the page opens is refused at the handshake, as behind a proxy that refuses WebSocket upgrades.
REFUSE_SOCKETS = """
const RealSocket = window.WebSocket;
window.WebSocket = function () { return new RealSocket("ws://" + location.host + "/no-such-socket"); };
window.WebSocket.OPEN = RealSocket.OPEN;
"""


@pytest.mark.timeout(600)
def test_the_page_falls_back_to_sse_and_post_when_the_socket_fails(gateway: str, browser: Browser) -> None:
    context = browser.new_context(locale="ja-JP", **PHONE)
    prepare(context)
    context.add_init_script(REFUSE_SOCKETS)
    page = context.new_page()
    page.goto(gateway + "/watch")
    page.tap("#start-button")
    log = page.locator("#watch-log li.counterpart")
    expect(log).to_have_count(1, timeout=60000)
    assert page.evaluate("document.body.dataset.transport") == "sse"
    page.tap("#play-button")
    expect(page.locator("#play-button")).to_have_text("再生", timeout=20000)
    spoken = log.count()
    page.tap("#step-button")
    expect(log).to_have_count(spoken + 1, timeout=30000)
    expect(page.locator("#watch-log li.counterpart .speaker").last).to_have_text(["太郎さん", "花子さん"][spoken % 2])
    context.close()
