"""Runbook actions that act locally: cache clear and session cleanup on real Redis, runtime switches."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from tools.ops.cli import REFUSED, run
from tools.ops.settings import OpsSettings
from workplace_roleplay.bootstrap import build_cache
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.cache_keys import session_key
from workplace_roleplay.settings import ChatSettings, ServiceSettings, WatchSettings


def redis_settings(redis_url: str) -> ServiceSettings:
    return ServiceSettings(REDIS_URL=redis_url)


async def put(redis_url: str, keys: list[str]) -> None:
    cache = build_cache(redis_settings(redis_url), SystemClock())
    try:
        for key in keys:
            await cache.set(key, b"v", ttl=300)
    finally:
        await cache.close()


async def present(redis_url: str, keys: list[str]) -> set[str]:
    cache = build_cache(redis_settings(redis_url), SystemClock())
    try:
        return {key for key in keys if await cache.get(key) is not None}
    finally:
        await cache.close()


async def drop(redis_url: str, keys: list[str]) -> None:
    cache = build_cache(redis_settings(redis_url), SystemClock())
    try:
        await cache.delete(*keys)
    finally:
        await cache.close()


@pytest.fixture
def tag() -> str:
    # Redis is shared with other people's runs: the test only ever touches keys carrying this tag.
    return f"opstest-{uuid.uuid4().hex[:10]}"


def test_cache_clear_deletes_only_under_the_prefix(
    redis_url: str, tag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doomed = [f"ai_cache:{tag}:a", f"ai_cache:{tag}:b", f"ai_cache:{tag}:c"]
    kept = [f"ai_cache:{tag}-other:a", f"tts_cache:{tag}:a", f"user_session:{tag}"]
    asyncio.run(put(redis_url, doomed + kept))
    monkeypatch.setenv("REDIS_URL", redis_url)
    try:
        assert run(["cache-clear", "--prefix", f"ai_cache:{tag}:"], OpsSettings()) == 0
        assert "deleted 3 key(s) on redis" in capsys.readouterr().out
        assert asyncio.run(present(redis_url, doomed + kept)) == set(kept)
    finally:
        asyncio.run(drop(redis_url, doomed + kept))


def test_session_cleanup_drops_hot_session_state(
    redis_url: str, tag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = [session_key(f"{tag}-{i}") for i in range(4)]
    kept = [session_key(f"x{tag}"), f"ai_cache:{tag}"]
    asyncio.run(put(redis_url, sessions + kept))
    monkeypatch.setenv("REDIS_URL", redis_url)
    try:
        assert run(["session-cleanup", "--user-prefix", f"{tag}-"], OpsSettings()) == 0
        assert "deleted 4 session key(s)" in capsys.readouterr().out
        assert asyncio.run(present(redis_url, sessions + kept)) == set(kept)
    finally:
        asyncio.run(drop(redis_url, sessions + kept))


@pytest.mark.parametrize("prefix", ["", "user_session:", "ratelimit:", "ratelimit:tts:", "ai_cach", "*"])
def test_cache_clear_refuses_foreign_or_empty_prefixes(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert run(["cache-clear", "--prefix", prefix], OpsSettings()) == REFUSED
    assert "must start with one of" in capsys.readouterr().err


def test_cache_clear_without_a_shared_cache_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    assert run(["cache-clear"], OpsSettings()) == REFUSED
    assert "REDIS_URL is not set" in capsys.readouterr().err


def switches(root: Path, env: str) -> dict[str, str]:
    data: dict[str, dict[str, str]] = json.loads((root / env / "switches.auto.tfvars.json").read_text())
    return data["runtime_switches"]


def test_fallback_auth_switch_is_written_and_parsed_by_the_services(
    ops_settings: OpsSettings, env_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["switch", "FALLBACK_AUTH", "flask_session", "--env", "prod"], ops_settings) == 0
    assert f"terraform -chdir={env_root / 'prod'} apply" in capsys.readouterr().out
    values = switches(env_root, "prod")
    assert values == {"FALLBACK_AUTH": "flask_session"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert ChatSettings().FALLBACK_AUTH == "flask_session"
    assert WatchSettings().FALLBACK_AUTH == "flask_session"
    assert run(["switch", "FALLBACK_AUTH", "--clear", "--env", "prod"], ops_settings) == 0
    assert switches(env_root, "prod") == {}


def test_simple_mode_switch_is_normalized_and_parsed(
    ops_settings: OpsSettings, env_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["switch", "MODEL_FORCE_SIMPLE", "on", "--env", "staging"], ops_settings) == 0
    assert switches(env_root, "staging") == {"MODEL_FORCE_SIMPLE": "true"}
    monkeypatch.setenv("MODEL_FORCE_SIMPLE", switches(env_root, "staging")["MODEL_FORCE_SIMPLE"])
    settings = ChatSettings()
    assert settings.MODEL_FORCE_SIMPLE is True


@pytest.mark.parametrize(
    "argv",
    [
        ["switch", "FALLBACK_AUTH", "cookie"],
        ["switch", "MODEL_FORCE_SIMPLE", "perhaps"],
        ["switch", "FALLBACK_AUTH"],
        ["switch", "FALLBACK_AUTH", "off", "--clear"],
    ],
)
def test_invalid_switch_values_are_refused(ops_settings: OpsSettings, env_root: Path, argv: list[str]) -> None:
    assert run([*argv, "--env", "prod"], ops_settings) == REFUSED
    assert not (env_root / "prod" / "switches.auto.tfvars.json").exists()
