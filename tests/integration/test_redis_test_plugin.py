"""The Redis test plugin: starts its own redis-server when REDIS_URL is dead, fails naming Redis otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer, free_port, redacted, redis_answers, require_redis_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

PROBE_TEST = """
import redis

def test_uses_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.ping()
    print("URL", redis_url)
    client.close()
"""


def _run_probe(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.support.redis_server"]\n')
    (tmp_path / "test_probe.py").write_text(PROBE_TEST)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_dead_redis_url_starts_a_session_server(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = _run_probe(tmp_path, {**os.environ, "REDIS_URL": dead})
    assert result.returncode == 0, result.stdout + result.stderr
    url = next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("URL "))
    assert url != dead
    assert not redis_answers(url), "the session's redis-server was not stopped"


def test_no_redis_and_no_binary_fails_naming_redis(tmp_path: Path) -> None:
    dead = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    env = {**os.environ, "REDIS_URL": dead, "PATH": str(tmp_path / "empty")}
    result = _run_probe(tmp_path, env)
    assert result.returncode != 0
    assert "Redis is required" in result.stdout
    assert "hunter2" not in result.stdout


def test_a_private_server_can_be_killed_and_restarted_on_its_port(tmp_path: Path) -> None:
    server = RedisServer(require_redis_server(), tmp_path)
    server.start()
    try:
        port = server.port
        assert redis_answers(server.url)
        server.kill()
        assert not redis_answers(server.url)
        server.start()
        assert server.port == port
        assert redis_answers(server.url)
    finally:
        server.stop()
    assert not redis_answers(server.url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("rediss://:pw@10.0.0.3:6378/0", "rediss://:***@10.0.0.3:6378/0"),
    ],
)
def test_messages_never_show_the_password(url: str, shown: str) -> None:
    assert redacted(url) == shown
