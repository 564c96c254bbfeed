"""The identity endpoints and the shared auth dependency over HTTP, on the real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.auth_app import auth_app, auth_settings, serving
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.ports import DocumentStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DocumentStore]:
    sqlite = await SqliteDocumentStore.open(tmp_path / "store.sqlite3")
    yield sqlite
    await sqlite.close()


@pytest.fixture
async def client(store: DocumentStore) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(auth_app(auth_settings(), store)) as c:
        yield c


async def sign_in(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/api/v2/auth/anonymous")
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {value.split("=", 1)[0]: value for value in response.headers.get_list("set-cookie")}


async def test_anonymous_sign_in_gives_tokens_and_exact_cookies(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v2/auth/anonymous")
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 7 * 24 * 3600
    assert response.headers["cache-control"] == "no-store"
    cookies = set_cookies(response)
    assert cookies["wr_access"] == (
        f"wr_access={body['access_token']}; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Lax"
    )
    assert cookies["wr_refresh"] == (
        f"wr_refresh={body['refresh_token']}; Path=/api/v2/auth; Max-Age=604800; HttpOnly; Secure; SameSite=Lax"
    )
    # Scripts must read the CSRF cookie to echo it in X-CSRF-Token: no HttpOnly on that one.
    assert cookies["wr_csrf"] == f"wr_csrf={body['csrf_token']}; Path=/; Max-Age=604800; Secure; SameSite=Lax"


async def test_me_with_bearer_with_cookie_and_without(client: httpx.AsyncClient) -> None:
    body = await sign_in(client)
    bearer = await client.get("/api/v2/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert bearer.status_code == 200
    assert bearer.json()["auth"] == "bearer"
    assert bearer.json()["user_id"] == body["user_id"]
    assert bearer.json()["kind"] == "anonymous"
    with_cookie = await client.get("/api/v2/auth/me")
    assert with_cookie.json()["auth"] == "cookie"
    client.cookies.clear()
    anonymous = await client.get("/api/v2/auth/me")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert anonymous.json()["error"]["message"].startswith("ログイン")


async def test_bad_bearer_is_401_invalid_token_even_with_a_good_cookie(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    response = await client.get("/api/v2/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    basic = await client.get("/api/v2/auth/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


async def test_csrf_missing_and_mismatched_on_cookie_post(client: httpx.AsyncClient) -> None:
    body = await sign_in(client)
    missing = await client.post("/api/v2/auth/probe/write")
    assert missing.status_code == 403
    assert missing.json()["error"]["code"] == "csrf_missing"
    wrong = await client.post("/api/v2/auth/probe/write", headers={"X-CSRF-Token": "forged.value"})
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "csrf_invalid"
    ok = await client.post("/api/v2/auth/probe/write", headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 200
    assert ok.json() == {"user_id": body["user_id"], "auth": "cookie"}
    legacy_spelling = await client.post("/api/v2/auth/probe/write", headers={"X-CSRFToken": body["csrf_token"]})
    assert legacy_spelling.status_code == 200


async def test_csrf_token_of_another_user_is_refused(client: httpx.AsyncClient) -> None:
    other = await sign_in(client)
    client.cookies.clear()  # signed in, a second sign-in would return the same learner
    mine = await sign_in(client)  # the jar now holds my cookies; plant the other user's CSRF pair
    assert mine["user_id"] != other["user_id"]
    client.cookies.set("wr_csrf", other["csrf_token"], domain="wr.test")
    response = await client.post("/api/v2/auth/probe/write", headers={"X-CSRF-Token": other["csrf_token"]})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_invalid"


async def test_bearer_request_needs_no_csrf(client: httpx.AsyncClient) -> None:
    body = await sign_in(client)
    client.cookies.clear()
    response = await client.post(
        "/api/v2/auth/probe/write", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert response.status_code == 200
    assert response.json()["auth"] == "bearer"


async def test_refresh_by_api_body_rotates_and_reuse_kills_the_family(store: DocumentStore) -> None:
    async with serving(auth_app(auth_settings(REFRESH_REUSE_GRACE_S=0), store)) as client:
        first = await sign_in(client)
        client.cookies.clear()
        second = await client.post("/api/v2/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        newest = second.json()["refresh_token"]
        assert newest not in (None, first["refresh_token"])
        me = await client.get("/api/v2/auth/me", headers={"Authorization": f"Bearer {second.json()['access_token']}"})
        assert me.json()["user_id"] == first["user_id"]
        replay = await client.post("/api/v2/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "session_revoked"
        dead = await client.post("/api/v2/auth/refresh", json={"refresh_token": newest})
        assert dead.status_code == 401
        assert dead.json()["error"]["code"] == "session_revoked"


async def test_refresh_by_cookie_needs_csrf_and_rotates_the_cookie(client: httpx.AsyncClient) -> None:
    body = await sign_in(client)
    refused = await client.post("/api/v2/auth/refresh")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_missing"
    response = await client.post("/api/v2/auth/refresh", headers={"X-CSRF-Token": body["csrf_token"]})
    assert response.status_code == 200
    cookies = set_cookies(response)
    assert response.json()["refresh_token"] in cookies["wr_refresh"]
    assert response.json()["csrf_token"] == body["csrf_token"]  # still valid for this user: kept


async def test_logout_revokes_and_clears_cookies(client: httpx.AsyncClient) -> None:
    body = await sign_in(client)
    no_csrf = await client.post("/api/v2/auth/logout")
    assert no_csrf.status_code == 403
    response = await client.post("/api/v2/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert all("Max-Age=0" in cleared[name] for name in ("wr_access", "wr_refresh", "wr_csrf"))
    again = await client.post("/api/v2/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "session_revoked"


async def test_logout_by_bearer_revokes_its_family(client: httpx.AsyncClient) -> None:
    body = await sign_in(client)
    client.cookies.clear()
    response = await client.post("/api/v2/auth/logout", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.status_code == 204
    again = await client.post("/api/v2/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert again.json()["error"]["code"] == "session_revoked"


async def test_first_page_visit_signs_in_anonymously_through_the_redirect(client: httpx.AsyncClient) -> None:
    first = await client.get("/probe/page?said=hi", headers={"Accept": "text/html"})
    assert first.status_code == 303
    assert first.headers["location"] == "/api/v2/auth/start?next=/probe/page%3Fsaid%3Dhi"
    start = await client.get(first.headers["location"])
    assert start.status_code == 303
    assert start.headers["location"] == "/probe/page?said=hi&signed_in=1"
    assert {"wr_access", "wr_refresh", "wr_csrf"} <= set(set_cookies(start))
    page = await client.get(start.headers["location"], headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert f'<meta name="csrf-token" content="{client.cookies["wr_csrf"]}">' in page.text
    assert f"""<body hx-headers='{{"X-CSRF-Token": "{client.cookies["wr_csrf"]}"}}'>""" in page.text
    # Coming back signed in does not create another user.
    again = await client.get("/api/v2/auth/start?next=/probe/page")
    assert "set-cookie" not in again.headers


async def test_a_page_reissues_a_missing_csrf_cookie(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    client.cookies.delete("wr_csrf", domain="wr.test")
    page = await client.get("/probe/page", headers={"Accept": "text/html"})
    assert page.status_code == 200
    issued = set_cookies(page)["wr_csrf"]
    token = issued.split(";", 1)[0].split("=", 1)[1]
    assert f'<meta name="csrf-token" content="{token}">' in page.text
    assert (await client.post("/api/v2/auth/probe/write", headers={"X-CSRF-Token": token})).status_code == 200


async def test_expired_access_cookie_on_a_page_refreshes_through_the_redirect(client: httpx.AsyncClient) -> None:
    body = await sign_in(client)
    client.cookies.delete("wr_access", domain="wr.test")
    start = await client.get("/api/v2/auth/start?next=/probe/page")
    me = await client.get("/api/v2/auth/me")
    assert me.json()["user_id"] == body["user_id"]  # same learner, via the refresh cookie
    assert start.headers["location"] == "/probe/page?signed_in=1"


async def test_browser_refusing_cookies_gets_an_explanation_not_a_loop(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/page?signed_in=1", headers={"Accept": "text/html"})
    assert response.status_code == 401
    assert "text/html" in response.headers["content-type"]


async def test_htmx_request_without_credentials_gets_hx_redirect(client: httpx.AsyncClient) -> None:
    fragment = await client.get("/probe/page", headers={"HX-Request": "true"})
    assert fragment.status_code == 401
    assert fragment.headers["hx-redirect"] == "/api/v2/auth/start?next=/probe/page"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
async def test_sign_in_redirect_never_leaves_the_origin(client: httpx.AsyncClient, target: str) -> None:
    response = await client.get("/api/v2/auth/start", params={"next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/?signed_in=1"


async def test_openapi_documents_the_endpoints_with_examples(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v2/auth/openapi.json")).json()
    for path in ("/api/v2/auth/anonymous", "/api/v2/auth/refresh", "/api/v2/auth/logout", "/api/v2/auth/me"):
        assert path in spec["paths"], path
    assert "201" in spec["paths"]["/api/v2/auth/anonymous"]["post"]["responses"]
    assert spec["components"]["schemas"]["TokenPair"]["examples"][0]["token_type"] == "Bearer"
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"HTTPBearer": []} in spec["paths"]["/api/v2/auth/me"]["get"]["security"]
