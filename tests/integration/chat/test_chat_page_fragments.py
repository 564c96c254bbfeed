"""The /chat page's HTMX fragments over real HTTP (the make-run gateway, simple-response mode):
status, escaping of user text, CSRF on unsafe methods with cookies, Japanese error fragments, paging,
and the vendored htmx served as recorded."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from functions.chat.pages import ASSETS
from tests.support.chat_server import parse_sse
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "shared" / "src" / "workplace_roleplay" / "web" / "static" / "vendor"
HX = {"HX-Request": "true", "Accept": "text/html"}
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_gateway(Path(tmp_path_factory.mktemp("fragments"))) as base:
        yield base


@pytest.fixture
def browser(gateway: str) -> Iterator[httpx.Client]:
    """A new learner: loading /chat signs in anonymously through the redirect and sets the cookies."""
    with httpx.Client(base_url=gateway, timeout=20.0, follow_redirects=True) as client:
        assert client.get("/chat", headers={"Accept": "text/html"}).status_code == 200
        yield client


def csrf(client: httpx.Client) -> dict[str, str]:
    token = client.cookies.get("wr_csrf")
    assert token
    return {**HX, "X-CSRF-Token": token}


def start(client: httpx.Client, **form: str) -> tuple[str, httpx.Response]:
    response = client.post(
        "/chat/conversations",
        data={"partner_type": "boss", "situation": "lunch", "topic": "food", "coaching": "on", **form},
        headers=csrf(client),
    )
    assert response.status_code == 200, response.text
    match = re.search(r'data-conversation-id="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1), response


def test_page_loads_htmx_with_nonce_strict_config_and_live_csrf_header(browser: httpx.Client) -> None:
    page = browser.get("/chat", headers={"Accept": "text/html"})
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce
    assert f'<script src="{ASSETS.url("htmx.js")}" nonce="{nonce.group(1)}"' in page.text
    assert '"allowEval": false' in page.text
    assert '"includeIndicatorStyles": false' in page.text
    assert '"allowScriptTags": false' in page.text
    token = browser.cookies.get("wr_csrf")
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page.text
    assert "unsafe-eval" not in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert 'hx-post="/chat/conversations"' in page.text  # the start form is htmx, not script
    assert "data-conversation-id" not in page.text  # a new learner has nothing to resume: the start form


def test_vendored_htmx_is_served_as_recorded_with_a_long_cache(browser: httpx.Client) -> None:
    asset = browser.get(ASSETS.url("htmx.js"))
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/javascript")
    recorded = (VENDOR / "README.md").read_text()
    assert hashlib.sha256(asset.content).hexdigest() in recorded
    assert "0BSD" in recorded
    assert (VENDOR / "htmx-LICENSE.txt").is_file()
    assert browser.get("/chat/static/vendor/../pages.py").status_code == 404
    assert browser.get("/chat/static/pages.0123456789.py").status_code == 404
    # Our own script is fingerprinted too; an older fingerprint (a page from the previous deploy) still
    # gets the current file, but must revalidate.
    assert browser.get(ASSETS.url("kit.js")).headers["cache-control"] == "public, max-age=31536000, immutable"
    assert browser.get("/chat/static/kit.0000000000.js").headers["cache-control"] == "no-cache"


def test_start_open_and_history_fragments_escape_the_learners_text(browser: httpx.Client) -> None:
    cid, started = start(browser)
    assert "<html" not in started.text  # a fragment, not a page
    assert started.headers["hx-trigger"] == "chat-history-changed"
    assert "高橋課長" in started.text
    assert "ランチ" in started.text
    assert started.text.count('<li class="counterpart') == 1  # the partner opened the conversation
    assert "簡易" in started.text  # the simple-mode notice is visible

    turn = {"conversation_id": cid, "message": f"{SCRIPT}\nこんにちは", "client_message_id": "f1"}
    events = parse_sse(browser.post("/api/v2/chat", json=turn, headers=csrf(browser)).text)
    assert events[-1].name == "done"

    opened = browser.get(f"/chat/conversations/{cid}", headers=HX)
    assert opened.status_code == 200
    assert SCRIPT not in opened.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\nこんにちは" in opened.text  # escaped, newline kept
    assert opened.text.count('<li class="learner') == 1
    assert opened.text.count('<li class="counterpart') == 2

    history = browser.get("/chat/history", headers=HX)
    assert history.status_code == 200
    assert f'hx-get="/chat/conversations/{cid}"' in history.text
    assert SCRIPT not in history.text
    assert "&lt;script&gt;" in history.text  # the title is the learner's first line, escaped


def test_summary_and_feedback_fragments_render_the_cards(browser: httpx.Client) -> None:
    cid, _ = start(browser)
    turn = {"conversation_id": cid, "message": f"先週は{SCRIPT}を読みました。", "client_message_id": "f2"}
    parse_sse(browser.post("/api/v2/chat", json=turn, headers=csrf(browser)).text)

    fresh = browser.get(f"/chat/conversations/{cid}", headers=HX).text
    assert "summary-card" not in fresh
    assert "feedback-card" not in fresh
    summary = browser.post(f"/chat/conversations/{cid}/summary", headers=csrf(browser))
    assert summary.status_code == 200
    assert '<h3 id="summary-title" tabindex="-1" data-autofocus>要約</h3>' in summary.text
    assert "学びのポイント" in summary.text
    assert "簡易" in summary.text  # labelled as simple mode
    assert SCRIPT not in summary.text

    report = browser.post(f"/chat/conversations/{cid}/feedback", headers=csrf(browser))
    assert report.status_code == 200
    for label in ("共感力", "プロフェッショナリズム", "良かった点", "伸ばせる点", "明日試すこと"):
        assert label in report.text
    assert re.search(r"\d+点", report.text)
    assert SCRIPT not in report.text

    reopened = browser.get(f"/chat/conversations/{cid}", headers=HX).text  # read back, no model call
    assert 'class="result-card summary-card"' in reopened
    assert 'class="result-card feedback-card"' in reopened
    tomorrow = re.search(r"<h4>明日試すこと</h4>\s*<ul><li>(.*?)</li>", report.text)
    assert tomorrow
    assert tomorrow.group(0) in reopened


def test_unsafe_fragment_routes_need_the_csrf_header_with_cookies(browser: httpx.Client) -> None:
    cid, _ = start(browser)
    turn = {"conversation_id": cid, "message": "消してもいい話です", "client_message_id": "f3"}
    first_event = parse_sse(browser.post("/api/v2/chat", json=turn, headers=csrf(browser)).text)[0].id
    turn_id = first_event.split(".")[0]
    assert browser.get(f"/api/v2/chat/streams/{turn_id}", headers={"Last-Event-ID": first_event}).status_code == 200
    for method, path in (
        ("POST", "/chat/conversations"),
        ("POST", f"/chat/conversations/{cid}/summary"),
        ("POST", f"/chat/conversations/{cid}/feedback"),
        ("DELETE", f"/chat/conversations/{cid}"),
    ):
        refused = browser.request(method, path, headers=HX)
        assert refused.status_code == 403, (method, path)
        assert "<html" not in refused.text  # htmx gets the error card alone, for #page-alert
        assert 'role="alert"' in refused.text
        assert "csrf" in refused.text.lower()
        forged = browser.request(method, path, headers={**HX, "X-CSRF-Token": "forged.token"})
        assert forged.status_code == 403, (method, path)
    assert browser.get(f"/chat/conversations/{cid}", headers=HX).status_code == 200  # nothing was deleted

    deleted = browser.delete(f"/chat/conversations/{cid}", headers=csrf(browser))
    assert deleted.status_code == 200
    assert deleted.headers["hx-trigger"] == "chat-history-changed"
    assert "会話を削除しました" in deleted.text
    assert 'id="setup-form"' in deleted.text
    gone = browser.get(f"/chat/conversations/{cid}", headers=HX)
    assert gone.status_code == 404
    assert "<html" not in gone.text
    assert 'role="alert"' in gone.text
    assert f'/chat/conversations/{cid}"' not in browser.get("/chat/history", headers=HX).text
    # The turn's replay buffer went with it, as with the JSON API's delete.
    assert browser.get(f"/api/v2/chat/streams/{turn_id}", headers={"Last-Event-ID": first_event}).status_code == 404


def test_errors_are_japanese_fragments_and_other_learners_get_404(browser: httpx.Client, gateway: str) -> None:
    cid, _ = start(browser)
    bad = browser.post("/chat/conversations", data={"partner_type": "alien"}, headers=csrf(browser))
    assert bad.status_code == 422
    assert "<html" not in bad.text
    assert 'role="alert"' in bad.text
    assert re.search(r"[\u3040-\u30ff]", bad.text)  # Japanese first
    with httpx.Client(base_url=gateway, timeout=20.0, follow_redirects=True) as other:
        other.get("/chat", headers={"Accept": "text/html"})
        assert other.get(f"/chat/conversations/{cid}", headers=HX).status_code == 404
        stolen = other.post(f"/chat/conversations/{cid}/summary", headers=csrf(other))
        assert stolen.status_code == 404


def test_history_pages_ten_at_a_time(browser: httpx.Client) -> None:
    ids = [start(browser)[0] for _ in range(11)]
    first = browser.get("/chat/history", headers=HX).text
    assert first.count('hx-get="/chat/conversations/') == 10
    assert 'hx-get="/chat/history?offset=10"' in first
    assert f'hx-get="/chat/conversations/{ids[-1]}"' in first  # newest first
    rest = browser.get("/chat/history?offset=10", headers=HX).text
    assert rest.count('hx-get="/chat/conversations/') == 1
    assert f'hx-get="/chat/conversations/{ids[0]}"' in rest
    assert 'hx-get="/chat/history?offset=0"' in rest
    assert browser.get("/chat/history?offset=-1", headers=HX).status_code == 422


def page_html(client: httpx.Client) -> str:
    page = client.get("/chat", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<html" in page.text
    return page.text


def test_the_page_opens_the_active_conversation_with_the_start_form_one_click_away(browser: httpx.Client) -> None:
    first, _ = start(browser, topic="hobby")
    turn = {"conversation_id": first, "message": f"{SCRIPT}\n週末は釣りに行きました", "client_message_id": "p1"}
    assert parse_sse(browser.post("/api/v2/chat", json=turn, headers=csrf(browser)).text)[-1].name == "done"

    page = page_html(browser)  # a reload (or a new tab) lands in the conversation, server-rendered
    assert f'data-conversation-id="{first}"' in page
    assert page.count('<li class="learner') == 1
    assert page.count('<li class="counterpart') == 2
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\n週末は釣りに行きました" in page
    assert SCRIPT not in page
    assert 'id="message-form"' in page  # ready for the next line (kit.js binds by delegation)
    assert 'id="setup-form"' not in page
    new_button = re.search(r'<button[^>]*id="new-button"[^>]*>([^<]*)</button>', page)
    assert new_button
    assert new_button.group(1) == "新しい会話を始める"
    assert 'hx-get="/chat/new"' in new_button.group(0)
    assert f'hx-get="/chat/conversations/{first}"' in page  # the past-conversations list is still there
    form = browser.get("/chat/new", headers=HX)  # the one click
    assert form.status_code == 200
    assert 'id="setup-form"' in form.text

    # Starting another conversation makes it the active one; its summary made earlier is shown, read back.
    second, _ = start(browser, topic="food")
    turn = {"conversation_id": second, "message": "ラーメンが好きです", "client_message_id": "p2"}
    assert parse_sse(browser.post("/api/v2/chat", json=turn, headers=csrf(browser)).text)[-1].name == "done"
    summary = browser.post(f"/chat/conversations/{second}/summary", headers=csrf(browser))
    assert summary.status_code == 200
    page = page_html(browser)
    assert f'data-conversation-id="{second}"' in page
    assert f'data-conversation-id="{first}"' not in page
    assert 'class="result-card summary-card"' in page
    assert "feedback-card" not in page

    # Deleting the active one falls back to the newest left (the store), and with none left, the start form.
    assert browser.delete(f"/chat/conversations/{second}", headers=csrf(browser)).status_code == 200
    assert f'data-conversation-id="{first}"' in page_html(browser)
    assert browser.delete(f"/chat/conversations/{first}", headers=csrf(browser)).status_code == 200
    page = page_html(browser)
    assert "data-conversation-id" not in page
    assert 'id="setup-form"' in page
    assert "まだ会話がありません" in page
