"""The /watch page in Chromium, on a phone (390x844, touch) and a desktop: start a run, four lines stream with the
speakers' names, pause, answer the quiz (result and explanation), join with a line and both characters react, a
quiz on demand, good and bad takes (pick, mark, explained), take over 花子さん's role from a line (太郎さん answers
the learner), end (ended state); the past runs list, reopen, summary and delete; the watch quiz accuracy on the
progress page; 続ける after the line budget; the daily budget's message; axe-core on each state, sizes on the phone,
no console error or CSP violation; screenshots in docs/screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.integration.pages.conftest import model_env
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.local_gateway import run_gateway
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


def _played(page: Page) -> None:
    """Wait for the takes' lines to finish appearing (polled: the strict CSP forbids wait_for_function's eval)."""
    for _ in range(100):
        if page.evaluate("document.getAnimations().every((a) => a.playState === 'finished')"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the takes kept animating")


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
    expect(page.locator("#runs-list")).to_contain_text("まだ観戦の記録がありません")
    _checked(page, "start", audited, device, phone)

    page.select_option("#situation", "lunch")
    click("#start-button")
    page.wait_for_url("**/watch/runs/*")
    run_url = page.url
    assert "play=" not in run_url  # a reload reopens the run, it does not press play again
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

    # The quiz on demand: a non-blocking card, answered like the automatic one.
    click("#quiz-button")
    expect(page.locator("#quiz-choices button:not([disabled])")).to_have_count(3, timeout=30000)
    click("#quiz-choices button >> nth=1")
    expect(page.locator("#quiz-result .verdict")).to_be_visible(timeout=20000)
    correct = int(page.locator("#accuracy").get_attribute("data-correct") or "-1")
    expect(page.locator("#accuracy")).to_contain_text("2問中")

    # Good and bad takes: the same moment played twice; the learner picks the skilled one and marks what differs.
    click("#takes-button")
    card = page.locator("#takes .takes-card")
    expect(card.locator(".take")).to_have_count(2, timeout=30000)
    expect(page.locator("#takes-title")).to_be_focused()
    for take in card.locator(".take").all():
        expect(take.locator(".log li")).to_have_count(2)
        assert all(text.strip() for text in take.locator(".text").all_inner_texts())
    assert card.locator(".skilled").count() == 0  # which one is skilled is not on the page before answering
    _played(page)  # A's lines appear, then B's
    expect(page.locator("#status")).to_contain_text("2つの例を比べて")
    _checked(page, "takes", audited, device, phone)
    click("#takes-form input[name=skilled][value=A]")
    click("#takes-form input[name=aspects] >> nth=0")
    page.fill("#takes-note", "Bは結論が後回しだった")
    click("#takes-submit")
    expect(card.locator(".verdict")).to_be_visible(timeout=20000)
    expect(card.locator(".take.skilled")).to_have_count(1)
    assert card.locator(".differences li").count() >= 1
    assert all(text.strip() for text in card.locator(".differences .quote").all_inner_texts())
    expect(card).to_contain_text("あなたのメモ: Bは結論が後回しだった")
    expect(page.locator("#status")).to_contain_text("一時停止中（")
    _checked(page, "takes-result", audited, device, phone)

    # Take over 花子さん from her first line: a new run where the learner speaks as her and 太郎さん answers.
    hanako = page.locator("#watch-log li.speaker-hanako").first
    expect(hanako.locator(".takeover")).to_have_text("ここから花子さんとして話す")
    at_line = int(hanako.get_attribute("data-at") or "0")
    click("#watch-log li.speaker-hanako >> nth=0 >> .takeover")
    page.wait_for_url(lambda url: url != run_url and "/watch/runs/" in url)
    expect(page.locator("#run-title")).to_have_text("花子さんとして話す")
    expect(page.locator("#watch-log li")).to_have_count(at_line - 1)
    expect(page.locator(".controls #play-button")).to_be_hidden()
    page.fill("#join-text", "太郎さん、午後の会議の資料はもう見ましたか？")
    click("#join-button")
    expect(page.locator("#watch-log li.learner .speaker")).to_have_text("あなた（花子さん）")
    expect(page.locator("#watch-log li.counterpart")).to_have_count(at_line, timeout=60000)
    answer = page.locator("#watch-log li.counterpart").last
    expect(answer.locator(".speaker")).to_have_text("太郎さん")
    expect(answer.locator(".text")).not_to_be_empty(timeout=30000)
    expect(page.locator("#leave-button")).to_be_hidden()
    _checked(page, "takeover", audited, device, phone)

    click("#stop-button")  # 終了する: the run ends for good
    expect(page.locator("#status")).to_have_text("観戦を終了しました。")
    expect(page.locator("#review-title")).to_be_focused()
    expect(page.locator("#ended-note")).to_be_visible()
    expect(page.locator("#join-form")).to_be_hidden()  # nothing speaks any more
    page.reload()  # the ended state is the run's, not the page's
    expect(page.locator("#status")).to_have_text("観戦を終了しました。")
    expect(page.locator("#play-button")).to_be_disabled()
    expect(page.locator("#stop-button")).to_be_hidden()
    _checked(page, "ended", audited, device, phone)

    # Past runs: both runs are listed; the first one reopens with its lines and its quiz accuracy.
    page.goto(gateway + "/watch")
    runs = page.locator("#runs-list .runs li")
    expect(runs).to_have_count(2)
    expect(runs.first).to_contain_text("花子さんとして参加")
    expect(runs.first).to_contain_text("終了")
    _checked(page, "runs", audited, device, phone)
    click("#runs-list .runs li >> nth=1 >> a.run-link")
    page.wait_for_url(run_url)
    expect(page.locator("#watch-log li.counterpart")).to_have_count(6)
    expect(page.locator("#watch-log li.learner")).to_have_count(1)
    expect(page.locator("#accuracy")).to_contain_text("2問中")

    click("#summary-button")
    expect(page.locator("#summary-title")).to_be_focused(timeout=30000)
    _checked(page, "reopened", audited, device, phone)

    # The progress page (scenario service) shows the watch quiz accuracy, rendered by the watch service.
    page.goto(gateway + "/progress")
    expect(page.locator("#watch-accuracy")).to_have_text(
        "観戦クイズ: 2問中" + str(correct) + "問正解（正答率" + str(correct * 50) + "%）"
    )
    expect(page.locator("#watch-progress")).to_contain_text("見分け: 1回中")
    _checked(page, "progress", audited, device, phone)

    page.goto(gateway + "/watch")
    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm asks before the hx-delete
    click("#runs-list .runs li:has-text('花子さんとして参加') button.delete")
    expect(page.locator("#runs-list")).to_contain_text("観戦の記録を削除しました。")
    expect(runs).to_have_count(1)
    expect(runs).not_to_contain_text("花子さんとして参加")

    assert audited == [
        "start",
        "quiz",
        "quiz-result",
        "joined",
        "takes",
        "takes-result",
        "takeover",
        "ended",
        "runs",
        "reopened",
        "progress",
    ]
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
    page.wait_for_url("**/watch/runs/*")
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


@pytest.fixture
def short_gateway(fake_gemini: FakeGeminiControl, tmp_path: Path) -> Iterator[str]:
    """Two lines per budget, no automatic quiz, and five model calls a day per learner."""
    env = {**model_env(fake_gemini), "WATCH_LINE_BUDGET": "2", "WATCH_QUIZ_EVERY": "0", "MODEL_DAILY_BUDGET_USER": "5"}
    with run_gateway(tmp_path, **env) as base:
        yield base


@pytest.mark.timeout(600)
def test_continue_after_the_line_budget_then_the_daily_budget_message(short_gateway: str, browser: Browser) -> None:
    context = browser.new_context(locale="ja-JP", device_scale_factor=2, **PHONE)
    prepare(context)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    audited: list[str] = []
    page.goto(short_gateway + "/watch")
    page.tap("#start-button")
    log = page.locator("#watch-log li.counterpart")
    expect(log).to_have_count(2, timeout=60000)
    # The budget pause asks to continue: the button says 続ける and sends "continue" (a "play" would be refused).
    expect(page.locator("#play-button")).to_have_text("続ける", timeout=20000)
    expect(page.locator("#status")).to_contain_text("ひと区切り")
    _checked(page, "budget", audited, "phone", True)
    page.tap("#play-button")
    expect(log).to_have_count(4, timeout=60000)
    expect(page.locator("#play-button")).to_have_text("続ける", timeout=20000)
    assert sum('"type":"continue"' in frame for frame in sent) == 1
    assert sum('"type":"play"' in frame for frame in sent) == 1  # only the start's
    expect(page.locator("#run-error")).to_be_hidden()

    # The fifth line spends the last model call of the day; the sixth is refused with the API's Japanese message.
    page.tap("#play-button")
    expect(page.locator("#run-error")).to_contain_text("本日のAI利用回数の上限に達しました", timeout=60000)
    expect(log).to_have_count(5)
    expect(page.locator("#play-button")).to_have_text("再生", timeout=20000)
    expect(page.locator("#run-error")).to_be_visible()  # the pause that follows does not wipe the message
    _checked(page, "daily-budget", audited, "phone", True)
    context.close()
    assert [line for line in console if line.startswith("error") or "Content Security Policy" in line] == []


@pytest.fixture
def offline_gateway(tmp_path: Path) -> Iterator[str]:
    """``make run`` offline: no model configured, so every line, quiz and take comes from the simple-response mode."""
    with run_gateway(tmp_path) as base:
        yield base


@pytest.mark.timeout(600)
def test_the_journey_offline_in_simple_response_mode(offline_gateway: str, browser: Browser) -> None:
    context = browser.new_context(locale="ja-JP", device_scale_factor=2, **PHONE)
    prepare(context)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if _worth(m) else None)
    audited: list[str] = []
    page.goto(offline_gateway + "/watch")
    page.select_option("#topic", "food")
    page.tap("#start-button")
    log = page.locator("#watch-log li.counterpart")
    expect(log).to_have_count(4, timeout=60000)
    expect(page.locator("#quiz")).to_be_visible(timeout=30000)
    texts = log.locator(".text").all_inner_texts()
    assert len(set(texts)) == 4  # four different lines, not a canned phrase said twice
    assert log.locator(".speaker").all_inner_texts() == ["太郎さん", "花子さん", "太郎さん", "花子さん"]
    question = page.locator("#quiz-question").inner_text()
    assert any(text in question for text in texts)  # the quiz is about the actual dialogue
    page.tap("#quiz-choices button >> nth=0")
    expect(page.locator("#quiz-result .verdict")).to_be_visible(timeout=20000)
    assert page.locator("#quiz-result").inner_text().strip()
    _checked(page, "offline-quiz-result", audited, "phone", True)

    page.tap("#takes-button")
    card = page.locator("#takes .takes-card")
    expect(card.locator(".take")).to_have_count(2, timeout=30000)
    _played(page)
    takes = [t.locator(".text").all_inner_texts() for t in card.locator(".take").all()]
    assert takes[0] != takes[1]
    page.tap("#takes-form input[name=skilled][value=B]")
    page.tap("#takes-form input[name=aspects] >> nth=0")
    page.tap("#takes-submit")
    expect(card.locator(".differences li").first).to_be_visible(timeout=20000)
    _checked(page, "offline-takes-result", audited, "phone", True)

    page.tap("#watch-log li.speaker-hanako >> nth=1 >> .takeover")
    expect(page.locator("#run-title")).to_have_text("花子さんとして話す", timeout=20000)
    page.fill("#join-text", "太郎さん、おすすめのお店はありますか？")
    page.tap("#join-button")
    answer = page.locator("#watch-log li.counterpart").last
    # Lines 1-3 were copied (花子さん's line 2 is now the learner's), then 太郎さん answers the learner.
    expect(page.locator("#watch-log li.learner")).to_have_count(2)
    expect(page.locator("#watch-log li.counterpart")).to_have_count(3, timeout=60000)
    expect(answer.locator(".speaker")).to_have_text("太郎さん")
    expect(answer.locator(".text")).not_to_be_empty(timeout=30000)
    _checked(page, "offline-takeover", audited, "phone", True)
    page.tap("#stop-button")
    expect(page.locator("#status")).to_have_text("観戦を終了しました。")
    context.close()
    assert [line for line in console if line.startswith("error") or "Content Security Policy" in line] == []
