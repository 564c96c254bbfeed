"""The scenario pages over real HTTP through the make-run gateway (embedded mode): home, the list with
tabs and filters (full page and htmx fragment), the consent page and its form (CSRF), the detail page
behind consent, legacy paths redirected, assets served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from workplace_roleplay.domain.scenario.consent import CONSENT_VERSION

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
HX = {"HX-Request": "true", "Accept": "text/html"}
GATED = "guidance_or_reprimand"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.support.local_gateway import run_gateway

    with run_gateway(Path(tmp_path_factory.mktemp("scenario-pages"))) as base:
        yield base


@pytest.fixture
def browser(gateway: str) -> Iterator[httpx.Client]:
    """A new learner: loading /scenarios signs in anonymously through the redirect."""
    with httpx.Client(base_url=gateway, timeout=20.0, follow_redirects=True) as client:
        assert client.get("/scenarios", headers=HTML).status_code == 200
        yield client


def hx(client: httpx.Client) -> dict[str, str]:
    token = client.cookies.get("wr_csrf")
    assert token
    return {**HX, "X-CSRF-Token": token}


def test_home_offers_chat_scenarios_watch_and_progress(gateway: str) -> None:
    page = httpx.get(gateway + "/", headers=HTML)
    assert page.status_code == 200
    for text in ("雑談練習", "シナリオ練習", "会話を観察", "成長の記録", 'href="/scenarios"', 'href="/chat"'):
        assert text in page.text
    assert "nonce-" in page.headers["content-security-policy"]


def test_list_page_has_tabs_filters_and_locked_entries(browser: httpx.Client) -> None:
    page = browser.get("/scenarios", headers=HTML)
    assert "職場の基本" in page.text
    assert "グレーゾーン" in page.text
    assert (
        '<span class="badge lock">要同意</span> <a href="/scenarios/guidance_or_reprimand">指導と叱責の境界線</a>'
        in page.text
    )
    assert "内容を確認して同意する" in page.text
    assert 'hx-get="/scenarios/list"' in page.text
    assert "/scenarios/static/vendor/htmx-2.0.11.min.js" in page.text
    tab = browser.get("/scenarios", params={"category": "regular"}, headers=HTML)
    assert 'aria-current="page">職場の基本' in tab.text.replace("\n", "")
    assert "要同意</span>" not in tab.text


def test_list_fragment_filters_and_pushes_the_url(browser: httpx.Client) -> None:
    fragment = browser.get("/scenarios/list", params={"category": "regular", "q": "誤送信"}, headers=hx(browser))
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "メールの誤送信を報告する" in fragment.text
    assert "1 件" in fragment.text
    assert fragment.headers["hx-push-url"] == "/scenarios?category=regular&q=%E8%AA%A4%E9%80%81%E4%BF%A1"
    none = browser.get("/scenarios/list", params={"q": "<script>"}, headers=hx(browser))
    assert "条件に合うシナリオはありません" in none.text
    assert "<script>" not in none.text


def test_detail_goes_through_consent_and_comes_back(browser: httpx.Client) -> None:
    first = browser.get(f"/scenarios/{GATED}", headers=HTML, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/scenarios/consent?next=/scenarios/{GATED}"
    consent = browser.get(first.headers["location"], headers=HTML)
    assert "ハラスメント防止・グレーゾーン研修への同意" in consent.text
    assert f'value="{CONSENT_VERSION}"' in consent.text
    no_csrf = browser.post("/scenarios/consent", data={"version": CONSENT_VERSION, "agree": "on"}, headers=HX)
    assert no_csrf.status_code == 403
    unticked = browser.post("/scenarios/consent", data={"version": CONSENT_VERSION}, headers=hx(browser))
    assert unticked.status_code == 422
    assert "入力内容を確認してください" in unticked.text
    given = browser.post(
        "/scenarios/consent",
        data={"version": CONSENT_VERSION, "agree": "on", "next": f"/scenarios/{GATED}"},
        headers=hx(browser),
    )
    assert given.status_code == 204
    assert given.headers["hx-redirect"] == f"/scenarios/{GATED}"
    detail = browser.get(f"/scenarios/{GATED}", headers=HTML)
    assert detail.status_code == 200
    assert "指導と叱責の境界線" in detail.text
    assert "森 拓也" in detail.text
    assert "同意済みです" in browser.get("/scenarios/consent", headers=HTML).text
    revoked = browser.post("/scenarios/consent/revoke", headers=hx(browser))
    assert revoked.status_code == 204
    again = browser.get(f"/scenarios/{GATED}", headers=HTML, follow_redirects=False)
    assert again.status_code == 303


def test_consent_next_never_leaves_the_site(browser: httpx.Client) -> None:
    page = browser.get("/scenarios/consent", params={"next": "https://evil.example/x"}, headers=HTML)
    assert "evil.example" not in page.text


def test_legacy_paths_redirect_and_unknown_ids_are_404(browser: httpx.Client) -> None:
    lists = browser.get("/scenarios/harassment", headers=HTML, follow_redirects=False)
    assert (lists.status_code, lists.headers["location"]) == (301, "/scenarios?category=harassment_prevention")
    legacy = browser.get("/scenarios/scenario11", headers=HTML, follow_redirects=False)
    assert (legacy.status_code, legacy.headers["location"]) == (301, "/scenarios/contract_deadline_tomorrow")
    missing = browser.get("/scenarios/no_such_scenario", headers=HTML)
    assert missing.status_code == 404
    assert "シナリオが見つかりませんでした" in missing.text


def test_assets_are_served_and_others_refused(gateway: str) -> None:
    css = httpx.get(gateway + "/scenarios/static/scenarios.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    htmx = httpx.get(gateway + "/scenarios/static/vendor/htmx-2.0.11.min.js")
    assert htmx.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(gateway + "/scenarios/static/pages.py").status_code == 404


@pytest.mark.parametrize(
    "path", ["/scenarios", "/scenarios/list", "/scenarios/consent", f"/scenarios/{GATED}", "/scenarios/orphan_task"]
)
def test_every_page_without_credentials_goes_through_sign_in(gateway: str, path: str) -> None:
    page = httpx.get(gateway + path, headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/api/v2/auth/start?next=")
    fragment = httpx.get(gateway + path, headers=HX, follow_redirects=False)
    assert fragment.status_code == 401
    assert fragment.headers["hx-redirect"].startswith("/api/v2/auth/start")


@pytest.mark.parametrize("path", ["/scenarios/consent", "/scenarios/consent/revoke"])
def test_consent_forms_need_a_learner(gateway: str, path: str) -> None:
    response = httpx.post(gateway + path, data={"version": CONSENT_VERSION, "agree": "on"}, headers=HX)
    assert response.status_code == 401


def test_an_htmx_request_for_a_gated_scenario_gets_the_japanese_consent_card(browser: httpx.Client) -> None:
    refused = browser.get(f"/scenarios/{GATED}", headers=hx(browser))
    assert refused.status_code == 403
    assert "研修内容への同意が必要です" in refused.text
    assert f'href="/scenarios/consent?next=/scenarios/{GATED}"' in refused.text
    assert "<html" not in refused.text
