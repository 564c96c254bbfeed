"""Login CSRF on POST /api/v2/auth/anonymous (issue 13, item 1): another site cannot sign the learner in
as someone else, and signing in while signed in keeps the current identity unless a new one is asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.auth_app import auth_app, auth_settings, serving
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.ports import DocumentStore

ANONYMOUS = "/api/v2/auth/anonymous"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DocumentStore]:
    sqlite = await SqliteDocumentStore.open(tmp_path / "store.sqlite3")
    yield sqlite
    await sqlite.close()


@pytest.fixture
async def client(store: DocumentStore) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(auth_app(auth_settings(), store)) as c:
        yield c


async def _signed_in(client: httpx.AsyncClient) -> dict[str, str]:
    first = await client.post(ANONYMOUS)
    assert first.status_code == 201, first.text
    body: dict[str, str] = first.json()
    return body


CROSS_SITE_FORMS = [
    pytest.param(
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
        id="form-from-another-site",
    ),
    pytest.param({"Origin": "http://evil.example"}, id="origin-only"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="fetch-metadata-only"),
    pytest.param({"Sec-Fetch-Site": "same-site", "Origin": "https://other.wr.test"}, id="sibling-subdomain"),
    pytest.param({"Origin": "null"}, id="opaque-origin"),
    pytest.param({"Content-Type": "text/plain"}, id="simple-request-without-metadata"),
    pytest.param({"Content-Type": "multipart/form-data; boundary=x"}, id="multipart-without-metadata"),
]


@pytest.mark.parametrize("headers", CROSS_SITE_FORMS)
async def test_a_cross_site_sign_in_is_refused_and_keeps_the_learner(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    mine = await _signed_in(client)
    attack = await client.post(ANONYMOUS, headers=headers, content=b"x=1" if "Content-Type" in headers else None)
    assert attack.status_code in (403, 415), attack.text
    assert attack.json()["error"]["code"] in ("cross_site_refused", "unsupported_media_type")
    assert attack.json()["error"]["message"]  # Japanese, for a person
    assert attack.headers.get_list("set-cookie") == []
    me = await client.get("/api/v2/auth/me")
    assert me.json()["user_id"] == mine["user_id"]


async def test_same_origin_sign_in_from_our_page_works(client: httpx.AsyncClient) -> None:
    response = await client.post(
        ANONYMOUS,
        headers={"Origin": "https://wr.test", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"},
        content=b"{}",
    )
    assert response.status_code == 201, response.text


async def test_api_clients_without_browser_headers_still_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.post(ANONYMOUS)
    assert response.status_code == 201
    assert response.json()["refresh_token"]


async def test_signing_in_while_signed_in_returns_the_current_identity(client: httpx.AsyncClient) -> None:
    mine = await _signed_in(client)
    again = await client.post(ANONYMOUS, headers={"Origin": "https://wr.test", "Sec-Fetch-Site": "same-origin"})
    assert again.status_code == 200, again.text
    assert again.json()["user_id"] == mine["user_id"]
    assert again.json()["refresh_token"] is None  # the learner keeps the one they have
    assert again.headers.get_list("set-cookie") == []
    client.cookies.clear()
    by_bearer = await client.post(ANONYMOUS, headers={"Authorization": f"Bearer {mine['access_token']}"})
    assert by_bearer.status_code == 200
    assert by_bearer.json()["user_id"] == mine["user_id"]


async def test_a_new_identity_only_when_explicitly_asked(client: httpx.AsyncClient) -> None:
    mine = await _signed_in(client)
    fresh = await client.post(ANONYMOUS, json={"new_identity": True})
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["user_id"] != mine["user_id"]
    me = await client.get("/api/v2/auth/me")
    assert me.json()["user_id"] == fresh.json()["user_id"]


async def test_a_body_that_is_not_json_is_refused_even_same_origin(client: httpx.AsyncClient) -> None:
    response = await client.post(
        ANONYMOUS,
        headers={"Origin": "https://wr.test", "Content-Type": "application/x-www-form-urlencoded"},
        content=b"new_identity=true",
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
