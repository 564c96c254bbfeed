"""FALLBACK_AUTH=flask_session: a valid legacy Flask session identifies the user; nothing else does."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping

import flask

from tests.support.auth_app import auth_app, auth_settings, serving
from tests.support.fakes import FakeStore
from workplace_roleplay.bootstrap import Security

LEGACY_SECRET = "the-legacy-flask-secret-key-of-the-old-app"
WHO = "/api/v2/auth/probe/who"


def legacy_cookie(secret: str, user_id: str) -> str:
    """A session cookie minted by real Flask, exactly as the legacy app sets it."""
    app = flask.Flask("legacy")
    app.secret_key = secret

    @app.route("/login")
    def login() -> str:
        flask.session["user_id"] = user_id
        flask.session["chat_history"] = [{"human": "こんにちは", "ai": "どうも", "timestamp": "2026-11-26T05:42:04"}]
        return "ok"

    response = app.test_client().get("/login")
    header = response.headers["Set-Cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


async def test_switch_off_ignores_legacy_sessions() -> None:
    user_id = str(uuid.uuid4())
    settings = auth_settings(LEGACY_SECRET_KEY=LEGACY_SECRET)
    async with serving(auth_app(settings, FakeStore())) as client:
        client.cookies.set("session", legacy_cookie(LEGACY_SECRET, user_id), domain="wr.test")
        response = await client.get(WHO)
        assert response.status_code == 401


async def test_switch_on_accepts_a_valid_legacy_session_byte_for_byte() -> None:
    user_id = str(uuid.uuid4())
    settings = auth_settings(FALLBACK_AUTH="flask_session", LEGACY_SECRET_KEY=LEGACY_SECRET)
    async with serving(auth_app(settings, FakeStore())) as client:
        client.cookies.set("session", legacy_cookie(LEGACY_SECRET, user_id), domain="wr.test")
        response = await client.get(WHO)
        assert response.status_code == 200
        assert response.json() == {"user_id": user_id, "auth": "legacy_session"}
        # Cookie-borne identity: unsafe requests still need the CSRF header.
        post = await client.post("/api/v2/auth/probe/write")
        assert post.status_code == 403
        assert post.json()["error"]["code"] == "csrf_missing"


async def test_switch_on_refuses_forged_and_foreign_sessions() -> None:
    settings = auth_settings(FALLBACK_AUTH="flask_session", LEGACY_SECRET_KEY=LEGACY_SECRET)
    async with serving(auth_app(settings, FakeStore())) as client:
        forged = legacy_cookie("some-other-secret-key-entirely-different", str(uuid.uuid4()))
        client.cookies.set("session", forged, domain="wr.test")
        assert (await client.get(WHO)).status_code == 401
        client.cookies.set("session", legacy_cookie(LEGACY_SECRET, "admin"), domain="wr.test")
        assert (await client.get(WHO)).status_code == 401  # not a uuid the legacy app would mint
        client.cookies.set("session", "garbage", domain="wr.test")
        assert (await client.get(WHO)).status_code == 401


async def test_a_valid_token_wins_over_the_legacy_session() -> None:
    settings = auth_settings(FALLBACK_AUTH="flask_session", LEGACY_SECRET_KEY=LEGACY_SECRET)
    async with serving(auth_app(settings, FakeStore())) as client:
        body = (await client.post("/api/v2/auth/anonymous")).json()
        client.cookies.set("session", legacy_cookie(LEGACY_SECRET, str(uuid.uuid4())), domain="wr.test")
        assert (await client.get(WHO)).json() == {"user_id": body["user_id"], "auth": "cookie"}


class SidVerifier:
    """A stand-in for the full legacy reader (server-side sessions), to show the hook is pluggable."""

    def __init__(self, sessions: Mapping[str, str]) -> None:
        self.sessions = sessions

    async def user_id(self, cookies: Mapping[str, str]) -> str | None:
        return self.sessions.get(cookies.get("session", ""))


async def test_the_legacy_verifier_is_pluggable() -> None:
    user_id = str(uuid.uuid4())

    def plug(security: Security) -> Security:
        return dataclasses.replace(security, legacy=SidVerifier({"sid-123": user_id}))

    settings = auth_settings(FALLBACK_AUTH="flask_session")
    async with serving(auth_app(settings, FakeStore(), customize=plug)) as client:
        client.cookies.set("session", "sid-123", domain="wr.test")
        assert (await client.get(WHO)).json() == {"user_id": user_id, "auth": "legacy_session"}
        client.cookies.set("session", "sid-999", domain="wr.test")
        assert (await client.get(WHO)).status_code == 401
