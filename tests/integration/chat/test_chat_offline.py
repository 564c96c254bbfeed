"""`make run` offline: the whole chat flow through the one-origin gateway in simple-response mode,
as a browser would drive it (sign-in redirect, cookies, CSRF header)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.chat_server import parse_sse
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def offline_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_gateway(Path(tmp_path_factory.mktemp("offline"))) as base:
        yield base


def test_the_whole_chat_flow_works_offline_in_simple_mode(offline_gateway: str) -> None:
    with httpx.Client(base_url=offline_gateway, timeout=20.0, follow_redirects=True) as browser:
        page = browser.get("/chat", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "雑談練習" in page.text
        csrf = browser.cookies.get("wr_csrf")
        assert csrf
        assert f'content="{csrf}"' in page.text
        post = {"X-CSRF-Token": csrf, "Accept": "text/event-stream"}

        refused = browser.post("/api/v2/chat", json={"topic": "food"}, headers={"Accept": "text/event-stream"})
        assert refused.status_code == 403  # a cookie-authenticated POST without the CSRF header

        opening = parse_sse(browser.post("/api/v2/chat", json={"topic": "food"}, headers=post).text)
        assert opening[-1].name == "done"
        assert opening[-1].data["simple_mode"] is True
        assert opening[-1].data["notice"]  # the learner is told this is the simple mode
        cid = opening[0].data["conversation_id"]

        body = {
            "conversation_id": cid,
            "message": "駅前のラーメン屋さんに行きました。\n美味しかったです",
            "client_message_id": "o1",
        }
        events = parse_sse(browser.post("/api/v2/chat", json=body, headers=post).text)
        names = [e.name for e in events]
        assert "token" in names
        assert names[-2:] == ["analysis", "done"]
        analysis = events[-2].data
        assert analysis["simple_mode"] is True
        assert analysis["politeness"] == "polite"
        assert analysis["advice"]
        assert events[-1].data["text"]

        headers = {"X-CSRF-Token": csrf}
        summary = browser.post(f"/api/v2/chat/conversations/{cid}/summary", headers=headers).json()
        assert summary["simple_mode"] is True
        assert "簡易" in summary["notice"]
        report = browser.post(f"/api/v2/chat/conversations/{cid}/feedback", headers=headers).json()
        assert report["simple_mode"] is True
        assert set(report["scores"]) == {
            "empathy",
            "clarity",
            "active_listening",
            "adaptability",
            "positivity",
            "professionalism",
        }
        for axis in report["axes"]:
            for check in axis["checks"]:
                if check["passed"]:
                    assert check["evidence"] in body["message"]

        listing = browser.get("/api/v2/chat/conversations").json()
        assert [c["id"] for c in listing["items"]] == [cid]
        again = browser.get("/chat", headers={"Accept": "text/html"})
        assert "駅前のラーメン屋さんに行きました。" in again.text  # the past conversation's title, escaped
