"""Security headers on every response; a per-request CSP nonce that matches the page's scripts."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.auth_app import auth_app, auth_settings, serving
from tests.support.fakes import FakeStore

NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with serving(auth_app(auth_settings(MAX_REQUEST_BYTES=4096), FakeStore())) as c:
        yield c


async def signed_in_page(client: httpx.AsyncClient, said: str = "") -> httpx.Response:
    # 201 the first time; signed in already, the same learner comes back (200).
    assert (await client.post("/api/v2/auth/anonymous")).status_code in (200, 201)
    return await client.get("/probe/page", params={"said": said}, headers={"Accept": "text/html"})


def assert_common_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health"), ("GET", "/api/v2/auth/me"), ("GET", "/nowhere"), ("POST", "/api/v2/auth/anonymous")],
)
async def test_every_api_response_carries_the_headers(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert_common_headers(response)
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_body_limit_413_carries_the_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v2/auth/refresh", content=b"x" * 5000, headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert_common_headers(response)


async def test_an_unhandled_error_500_carries_the_headers_and_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/auth/probe/boom", headers={"X-Request-ID": "req-boom-1"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "unexpected bug" not in response.text
    assert response.headers["x-request-id"] == "req-boom-1"
    assert_common_headers(response)


async def test_page_nonce_changes_per_request_and_matches_every_script_and_style(
    client: httpx.AsyncClient,
) -> None:
    first, second = await signed_in_page(client), await signed_in_page(client)
    nonces = []
    for page in (first, second):
        assert page.status_code == 200
        assert_common_headers(page)
        csp = page.headers["content-security-policy"]
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        match = NONCE.search(csp)
        assert match, csp
        nonce = match.group(1)
        assert len(nonce) >= 22  # at least 128 bits
        assert f"style-src 'self' 'nonce-{nonce}'" in csp
        tags = re.findall(r"<(?:script|style)\b[^>]*>", page.text)
        assert len(tags) == 3  # the layout's style and the probe's two scripts
        assert all(f'nonce="{nonce}"' in tag for tag in tags), tags
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


async def test_user_supplied_script_is_escaped(client: httpx.AsyncClient) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    page = await signed_in_page(client, said=attack)
    assert attack not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert len(re.findall(r"<script\b", page.text)) == 2  # only the template's own


async def test_html_error_pages_get_the_page_policy_with_a_nonce(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere", headers={"Accept": "text/html"})
    assert response.status_code == 404
    match = NONCE.search(response.headers["content-security-policy"])
    assert match
    assert f'<style nonce="{match.group(1)}">' in response.text


async def test_docs_page_allows_only_its_own_inline_script_by_hash(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/auth/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp
