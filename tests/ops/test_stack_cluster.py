"""``make stack`` with STACK_REDIS_MODE=cluster: every service runs on a local three-primary Redis Cluster.

A real chat turn (fake model) goes through nginx; its keys land on the cluster with their hash tags,
``cache-clear`` empties the stream buffers on every shard, and Ctrl-C stops the cluster's processes too.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
import redis

from tests.ops.stack_runner import REPO, nginx_binary, start_stack, stop_stack
from tests.ops.test_stack_e2e import alive, environ_of, stream_turn
from tools.ops.stack_state import read_state
from workplace_roleplay.ports.cache_keys import stream_key

pytestmark = pytest.mark.integration


def _cluster_keys(url: str, match: str) -> list[str]:
    client = redis.RedisCluster.from_url(url)
    try:
        return sorted(k.decode() for k in client.scan_iter(match=match, target_nodes=client.PRIMARIES))
    finally:
        client.close()


def test_the_stack_serves_a_chat_turn_on_a_local_cluster(tmp_path: Path) -> None:
    nginx_binary()
    running = start_stack(
        tmp_path / "stack", store="sqlite", candidates="", redis_url="", model="fake", redis_mode="cluster"
    )
    try:
        state = read_state(running.run_dir)
        cluster_pids = [pid for role, pid in state.helpers.items() if role.startswith("redis-")]
        assert len(cluster_pids) == 6  # three primaries, three replicas
        env = environ_of(state.processes[0].pid)
        assert env["REDIS_MODE"] == "cluster"
        assert all(environ_of(p.pid)["REDIS_URL"] == env["REDIS_URL"] for p in state.processes)
        ready = httpx.get(running.url + "/api/v2/chat/ready", timeout=10).json()
        assert ready["status"] == "ok"
        assert ready["checks"]["cache"]["status"] == "ok"
        with httpx.Client(base_url=running.url, timeout=30) as client:
            signed = client.post("/api/v2/auth/anonymous")
            assert signed.status_code == 201
            _, events = stream_turn(client, signed.json()["access_token"], threading.Event())
        done = next(data for name, data in events if name == "done")
        assert done["status"] == "complete"
        turn_id = str(next(data for name, data in events if name == "start")["turn_id"])
        assert _cluster_keys(env["REDIS_URL"], "stream:*") == [stream_key(turn_id)]
        assert any(k.startswith("ratelimit:{user:") for k in _cluster_keys(env["REDIS_URL"], "ratelimit:*"))

        cleared = subprocess.run(
            [sys.executable, "-m", "tools.ops", "cache-clear", "--prefix", "stream:"],
            env={"PATH": "/usr/bin:/bin", "REDIS_URL": env["REDIS_URL"], "REDIS_MODE": "cluster"},
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert cleared.returncode == 0, cleared.stderr
        assert "deleted 1 key(s) on redis-cluster" in cleared.stdout
        assert _cluster_keys(env["REDIS_URL"], "stream:*") == []
    finally:
        stop_stack(running)  # Ctrl-C, as a developer would
    for pid in cluster_pids:
        assert not alive(pid), f"cluster node {pid} outlived the stack"
