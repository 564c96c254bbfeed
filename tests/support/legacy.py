"""Legacy sessions for tests: the captured fixtures, and fresh ones written by REAL Flask + Flask-Session.

The fixtures live outside the repository (``../shared/fixtures/legacy_sessions`` beside the clone; in a
git worktree, beside the main clone the worktree belongs to) and are never copied in. A missing fixture
directory FAILS the test that needs it.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import flask
import pytest
import redis
from flask_session import Session

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SUBDIR = Path("shared") / "fixtures" / "legacy_sessions"


def _clone_roots() -> list[Path]:
    roots = [REPO_ROOT]
    dot_git = REPO_ROOT / ".git"
    if dot_git.is_file():  # a git worktree: ".git" names <main clone>/.git/worktrees/<name>
        text = dot_git.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.removeprefix("gitdir:").strip())
            roots.append(gitdir.parents[2])
    return roots


def fixtures_dir() -> Path:
    """``../shared/fixtures/legacy_sessions`` relative to the clone's root; fails the test when absent."""
    candidates = [root.parent / FIXTURE_SUBDIR for root in _clone_roots()]
    for path in candidates:
        if (path / "README.md").is_file():
            return path
    pytest.fail(f"legacy session fixtures not found (looked in {', '.join(map(str, candidates))})", pytrace=False)


def fixture_names() -> list[str]:
    """Fixture names, listed at collection time (an empty list when absent: the presence test then fails)."""
    for root in _clone_roots():
        path = root.parent / FIXTURE_SUBDIR
        if path.is_dir():
            return sorted(p.stem for p in path.glob("*.json"))
    return []


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures_dir() / f"{name}.json").read_text(encoding="utf-8"))
    return data


def captured_at(fixture: dict[str, Any]) -> float:
    return datetime.fromisoformat(fixture["captured_at"]).timestamp()


def place_fixture(
    fixture: dict[str, Any], root: Path, *, redis_client: redis.Redis | None = None, prefix: str = ""
) -> str:
    """Put a fixture's stored bytes where a reader finds them; returns the cookie value the browser held."""
    raw = base64.b64decode(fixture["server_record"]["raw_b64"])
    if fixture["backend"] == "filesystem":
        sessions = root / "flask_session"
        sessions.mkdir(parents=True, exist_ok=True)
        (sessions / fixture["server_record"]["file_name"]).write_bytes(raw)
    else:
        assert redis_client is not None
        key = fixture["server_record"]["redis_key"].replace("workplace-roleplay:", prefix, 1)
        redis_client.set(key, raw, px=fixture["server_record"]["pttl_ms"])
    related = fixture.get("related_server_state")
    if related and "content" in related:  # the gamification file beside the app, whatever the session backend
        users = root / "user_data"
        users.mkdir(parents=True, exist_ok=True)
        content = related["content"]
        (users / f"{content['user_id']}.json").write_text(json.dumps(content), encoding="utf-8")
    value: str = fixture["cookie"]["value"]
    return value


# ---- fresh sessions from the real legacy stack -------------------------------------------------------


@dataclass
class LegacyFlask:
    """A Flask app with Flask-Session configured like the legacy app; ``seed`` stores a session dict."""

    app: flask.Flask

    def seed(self, session: dict[str, Any]) -> str:
        """Store ``session`` through a real request; returns the ``session`` cookie value."""
        client = self.app.test_client()
        response = client.post("/seed", json=session)
        assert response.status_code == 200, response.data
        cookie = client.get_cookie("session")
        assert cookie is not None
        return cookie.value


def _app(config: dict[str, Any]) -> LegacyFlask:
    app = flask.Flask("legacy-workplace-roleplay")
    app.config.update(config)
    Session(app)

    @app.post("/seed")
    def seed() -> str:
        flask.session.update(flask.request.get_json())
        return "ok"

    return LegacyFlask(app)


LEGACY_SECRET = "legacy-secret-key-of-at-least-32-characters"


def filesystem_legacy(directory: Path, secret: str = LEGACY_SECRET) -> LegacyFlask:
    """The legacy production setup: ``SESSION_TYPE=filesystem`` and every other setting a default."""
    return _app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(directory), "SECRET_KEY": secret})


def redis_legacy(url: str, prefix: str, secret: str) -> LegacyFlask:
    """The legacy Redis mode (signed cookie, msgpack), with a working bytes client."""
    return _app(
        {
            "SESSION_TYPE": "redis",
            "SESSION_REDIS": redis.Redis.from_url(url),
            "SESSION_KEY_PREFIX": prefix,
            "SESSION_USE_SIGNER": True,
            "SESSION_PERMANENT": False,
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
            "SECRET_KEY": secret,
        }
    )


def cookie_legacy(secret: str) -> LegacyFlask:
    """Flask's default signed-cookie session (no Flask-Session)."""
    app = flask.Flask("legacy-cookie")
    app.secret_key = secret

    @app.post("/seed")
    def seed() -> str:
        flask.session.update(flask.request.get_json())
        return "ok"

    return LegacyFlask(app)


AI = "お疲れさまです！<b>今日</b>は忙しかったですか？"


def realistic_session(*, user_id: str | None = None, turns: int = 2, seed: int = 0) -> dict[str, Any]:
    """A session shaped like legacy.md §2.4 (every flow, an HTML reply, an error turn, an empty scenario)."""
    rng = random.Random(seed)
    base = datetime(2026, 11, 26, 5, 42, 4) + timedelta(seconds=rng.randint(0, 10_000))

    def ts(i: int) -> str:
        return (base + timedelta(seconds=i)).isoformat()

    chat = [{"human": "[雑談開始]", "ai": AI, "timestamp": ts(0)}]
    chat += [{"human": f"質問{i}ですか？", "ai": f"答え{i}です。", "timestamp": ts(i + 1)} for i in range(turns)]
    chat.append({"human": "もう一つ", "ai": "申し訳ありません。エラーが発生しました。", "timestamp": ts(turns + 2)})
    session: dict[str, Any] = {
        "_permanent": True,
        "csrf_token": uuid.UUID(int=rng.getrandbits(128)).hex,
        "csrf_token_time": 1795671724.559182,
        "chat_settings": {
            "model": "gemini/gemini-2.5-flash",
            "partner_type": "senior",
            "situation": "lunch",
            "topic": "food",
            "start_time": ts(0),
            "system_prompt": "あなたは…",
        },
        "chat_history": chat,
        "scenario_history": {
            "scenario1": [
                {"human": "[シナリオ開始]", "ai": "この書類を準備して。", "timestamp": ts(20)},
                {"human": "承知しました。", "ai": "15人分ね。", "timestamp": ts(21)},
            ],
            "scenario5": [],
        },
        "scenario_settings": {"scenario1": {"start_time": ts(20)}},
        "harassment_consent": True,
        "harassment_consent_timestamp": ts(30),
        "watch_settings": {
            "model_a": "gemini/gemini-2.5-flash",
            "model_b": "gemini/gemini-2.5-flash",
            "partner_type": "colleague",
            "situation": "break",
            "topic": "hobby",
            "current_speaker": "A",
            "start_time": ts(40),
        },
        "watch_history": [
            {"speaker": "A", "message": "花子さん、最近何か趣味ありますか？", "timestamp": ts(41)},
            {"speaker": "B", "message": "最近ヨガを始めたんです。", "timestamp": ts(42)},
            {"speaker": "A", "message": "いいですね、どこで？", "timestamp": ts(43)},
            {"role": "user", "content": "私も混ぜてください"},
        ],
        "three_way_active": False,
        "strength_history": {
            "chat": [{"timestamp": ts(50), "scores": {"empathy": 66, "clarity": 61}, "practice_count": 1}]
        },
        "gamification_quiz_session": {"results": [{"is_correct": True, "question": "要点は？"}]},
    }
    if user_id is not None:
        session["user_id"] = user_id
    return session


# chat: 1 opening reply + turns*(2) + error turn (2); scenario1: 1 + 2; watch: 4
def realistic_counts(turns: int = 2) -> tuple[dict[str, int], int]:
    chat = 1 + 2 * turns + 2
    return {"chat": 1, "scenario": 1, "watch": 1}, chat + 3 + 4
