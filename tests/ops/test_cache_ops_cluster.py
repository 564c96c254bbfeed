"""cache-clear and session-cleanup on a real Redis Cluster: every shard is cleared (keys counted per node)."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.support.redis_cluster import LocalCluster, keys_per_primary
from tools.ops.cli import run
from tools.ops.settings import OpsSettings
from workplace_roleplay.ports.cache_keys import session_key

KEYS_PER_FAMILY = 90  # enough that every one of the three primaries holds some (checked below)


def _put(cluster: LocalCluster, keys: list[str]) -> None:
    client = redis.RedisCluster.from_url(cluster.url)
    try:
        for key in keys:
            client.set(key, b"v", ex=300)
    finally:
        client.close()


@pytest.fixture
def cluster_env(private_redis_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> LocalCluster:
    monkeypatch.setenv("REDIS_URL", private_redis_cluster.url)
    monkeypatch.setenv("REDIS_MODE", "cluster")
    return private_redis_cluster


def test_cache_clear_empties_every_shard(cluster_env: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    tag = uuid.uuid4().hex[:8]
    doomed = [f"ai_cache:{tag}:{i}" for i in range(KEYS_PER_FAMILY)]
    kept = [f"tts_cache:{tag}:{i}" for i in range(KEYS_PER_FAMILY)]
    _put(cluster_env, doomed + kept)
    before = keys_per_primary(cluster_env, f"ai_cache:{tag}:*")
    assert len(before) == 3
    assert all(n > 0 for n in before.values()), before
    assert sum(before.values()) == KEYS_PER_FAMILY

    assert run(["cache-clear", "--prefix", f"ai_cache:{tag}:"], OpsSettings()) == 0

    out = capsys.readouterr().out
    assert f"deleted {KEYS_PER_FAMILY} key(s) on redis-cluster" in out
    for address, n in before.items():
        assert f"{address}: {n}" in out  # the report names what each primary held
    assert set(keys_per_primary(cluster_env, f"ai_cache:{tag}:*").values()) == {0}
    assert sum(keys_per_primary(cluster_env, f"tts_cache:{tag}:*").values()) == KEYS_PER_FAMILY


def test_session_cleanup_empties_every_shard(cluster_env: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    tag = uuid.uuid4().hex[:8]
    sessions = [session_key(f"{tag}-{i}") for i in range(KEYS_PER_FAMILY)]
    kept = [session_key(f"x{tag}-{i}") for i in range(10)]
    _put(cluster_env, sessions + kept)
    match = "user_session:{" + tag + "-*"
    before = keys_per_primary(cluster_env, match)
    assert len(before) == 3
    assert all(n > 0 for n in before.values()), before

    assert run(["session-cleanup", "--user-prefix", f"{tag}-"], OpsSettings()) == 0

    assert f"deleted {KEYS_PER_FAMILY} session key(s) on redis-cluster" in capsys.readouterr().out
    assert set(keys_per_primary(cluster_env, match).values()) == {0}
    assert sum(keys_per_primary(cluster_env, "user_session:{x" + tag + "-*").values()) == 10
