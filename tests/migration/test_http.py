"""Migration over HTTP: the API route, the browser sign-in redirect, the worker route, the legacy record."""

from __future__ import annotations

import asyncio
import hashlib
import struct
from pathlib import Path

import httpx

from tests.migration.http_app import LocalIssuer, app_for, migration_settings, serving
from tests.support.legacy import LEGACY_SECRET, filesystem_legacy, realistic_counts, realistic_session, redis_legacy
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore

UID = "ecd0938e-1430-4046-92aa-5385295c708a"


def digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def expected_body(user_id: str) -> dict[str, object]:
    counts, messages = realistic_counts()
    return {"user_id": user_id, "conversations": counts, "messages": messages, "status": "migrated"}


def outcome(body: dict[str, object]) -> dict[str, object]:
    return {k: body[k] for k in ("user_id", "conversations", "messages", "status")}


async def test_api_migration_answers_the_same_on_every_repeat_and_leaves_the_legacy_file(tmp_path: Path) -> None:
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session(user_id=UID))
    before = digest(sessions)
    async with serving(app_for(migration_settings(tmp_path, f"filesystem:{sessions}"))) as client:
        first = await client.post("/api/v2/migrate/session", json={"session": cookie})
        assert first.status_code == 200, first.text
        assert outcome(first.json()) == expected_body(UID)
        assert first.json()["access_token"]
        assert first.json()["refresh_token"]
        assert "set-cookie" not in first.headers  # an API client: tokens in the body only
        again = await client.post("/api/v2/migrate/session", json={"session": cookie})
        assert outcome(again.json()) == outcome(first.json())
        me = await client.get("/api/v2/auth/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"})
        assert me.json()["user_id"] == UID
        assert me.json()["kind"] == "legacy"
    assert digest(sessions) == before  # the legacy record is never modified


async def test_cookie_migration_sets_v2_cookies(tmp_path: Path) -> None:
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session(user_id=UID))
    async with serving(app_for(migration_settings(tmp_path, f"filesystem:{sessions}"))) as client:
        client.cookies.set("session", cookie, domain="wr.test")
        response = await client.post("/api/v2/migrate/session")
        assert response.status_code == 200
        assert outcome(response.json()) == expected_body(UID)
        assert "wr_access" in client.cookies
        client.cookies.delete("session")
        assert (await client.get("/api/v2/auth/me")).json()["user_id"] == UID


async def test_the_sign_in_redirect_migrates_a_legacy_browser_once(tmp_path: Path) -> None:
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session(user_id=UID))
    settings = migration_settings(tmp_path, f"filesystem:{sessions}")
    async with serving(app_for(settings)) as client:
        client.cookies.set("session", cookie, domain="wr.test")
        start = await client.get("/api/v2/auth/start", params={"next": "/chat"})
        assert start.status_code == 303
        assert start.headers["location"] == "/chat?signed_in=1"
        assert (await client.get("/api/v2/auth/me")).json()["user_id"] == UID
        # Signed in already (v2 cookies + the legacy cookie of the same learner): no second migration.
        again = await client.get("/api/v2/auth/start", params={"next": "/chat"})
        assert again.status_code == 303
        client.cookies.delete("wr_access")  # access expired: the refresh cookie continues the sign-in
        third = await client.get("/api/v2/auth/start", params={"next": "/chat"})
        assert third.status_code == 303
        assert (await client.get("/api/v2/auth/me")).json()["user_id"] == UID
    store = await SqliteDocumentStore.open(settings.DATA_DIR / "store.sqlite3")
    try:
        records = await store.query("legacy_migrations")
        assert len(records) == 1
        assert records[0].data["attempts"] == 1
        assert records[0].data["status"] == "done"
    finally:
        await store.close()


async def test_a_browser_with_an_unusable_legacy_session_is_signed_in_anonymously(tmp_path: Path) -> None:
    sessions = tmp_path / "flask_session"
    sessions.mkdir()
    async with serving(app_for(migration_settings(tmp_path, f"filesystem:{sessions}"))) as client:
        client.cookies.set("session", "x" * 43, domain="wr.test")
        start = await client.get("/api/v2/auth/start", params={"next": "/chat"})
        assert start.status_code == 303
        me = (await client.get("/api/v2/auth/me")).json()
        assert me["kind"] == "anonymous"


async def test_expired_unknown_and_tampered_sessions_are_clear_errors(
    tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session(user_id=UID))
    path = sessions / hashlib.sha256(f"session:{cookie}".encode()).hexdigest()
    path.write_bytes(struct.pack("<I", 1_700_000_000) + path.read_bytes()[4:])  # expired in 2023
    async with serving(app_for(migration_settings(tmp_path, f"filesystem:{sessions}"))) as client:
        expired = await client.post("/api/v2/migrate/session", json={"session": cookie})
        assert expired.status_code == 404
        assert expired.json()["error"]["code"] == "legacy_session_not_found"
        assert "期限" in expired.json()["error"]["message"]
        unknown = await client.post("/api/v2/migrate/session", json={"session": "y" * 43})
        assert unknown.status_code == 404
        nothing = await client.post("/api/v2/migrate/session")
        assert nothing.status_code == 404
    redis_cookie = redis_legacy(redis_url, redis_namespace, LEGACY_SECRET).seed(realistic_session(user_id=UID))
    settings = migration_settings(
        tmp_path, redis_url, LEGACY_SECRET_KEY=LEGACY_SECRET, LEGACY_REDIS_KEY_PREFIX=redis_namespace
    )
    async with serving(app_for(settings)) as client:
        sid, _, sig = redis_cookie.partition(".")
        tampered = await client.post("/api/v2/migrate/session", json={"session": f"{sid}.{sig[::-1]}"})
        assert tampered.status_code == 422
        assert tampered.json()["error"]["code"] == "legacy_session_invalid"
        good = await client.post("/api/v2/migrate/session", json={"session": redis_cookie})
        assert good.status_code == 200
        assert outcome(good.json()) == expected_body(UID)


async def test_ten_parallel_requests_make_one_user_and_no_duplicate_conversation(tmp_path: Path) -> None:
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session())  # no user_id: one is generated, once
    settings = migration_settings(tmp_path, f"filesystem:{sessions}")
    async with serving(app_for(settings)) as client:
        answers = await asyncio.gather(
            *(client.post("/api/v2/migrate/session", json={"session": cookie}) for _ in range(10))
        )
    assert [a.status_code for a in answers] == [200] * 10
    bodies = [outcome(a.json()) for a in answers]
    assert len({b["user_id"] for b in bodies}) == 1
    user_id = str(bodies[0]["user_id"])
    assert bodies == [expected_body(user_id)] * 10
    store = await SqliteDocumentStore.open(settings.DATA_DIR / "store.sqlite3")
    try:
        assert [u.id for u in await store.query("users")] == [user_id]
        convs = await store.query(f"users/{user_id}/conversations")
        assert sorted(c.data["mode"] for c in convs) == ["chat", "scenario", "watch"]
        total = 0
        for conv in convs:
            total += len(await store.query(f"{conv.path}/messages"))
        assert total == realistic_counts()[1]
    finally:
        await store.close()


async def test_the_worker_accepts_only_the_invokers_oidc_token(tmp_path: Path) -> None:
    sessions = tmp_path / "flask_session"
    cookie = filesystem_legacy(sessions).seed(realistic_session(user_id=UID))
    ref = hashlib.sha256(f"session:{cookie}".encode()).hexdigest()
    issuer = LocalIssuer()
    with issuer.serving():
        settings = migration_settings(tmp_path, f"filesystem:{sessions}", TASKS_OIDC_JWKS_URL=issuer.url)
        async with serving(app_for(settings)) as client:

            async def call(token: str | None) -> httpx.Response:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                return await client.post("/api/v2/migrate/tasks/session", json={"ref": ref}, headers=headers)

            missing = await call(None)
            assert missing.status_code == 401
            assert (await call(issuer.token(aud="https://someone-else.run.app"))).status_code == 401
            assert (await call(issuer.token(iss="https://evil.example"))).status_code == 401
            expired = await call(issuer.token(iat=1_700_000_000, exp=1_700_000_600))
            assert expired.status_code == 401
            assert expired.json()["error"]["code"] == "token_expired"
            other = await call(issuer.token(email="someone@demo.iam.gserviceaccount.com"))
            assert other.status_code == 403
            forged = LocalIssuer().token()  # right claims, another key
            assert (await call(forged)).status_code == 401
            valid = await call(issuer.token())
            assert valid.status_code == 200, valid.text
            assert valid.json() == {"result": "migrated", "user_id": UID}
            assert (await call(issuer.token())).json() == {"result": "repeat", "user_id": UID}
            gone = await client.post(
                "/api/v2/migrate/tasks/session",
                json={"ref": "0" * 64},
                headers={"Authorization": f"Bearer {issuer.token()}"},
            )
            assert gone.json() == {"result": "not_found", "user_id": None}
