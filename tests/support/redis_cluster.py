"""Pytest plugin: a real Redis Cluster of our own (three primaries, one replica each) on free loopback ports.

Built by tools/ops/redis_cluster.py (the same cluster ``make stack`` runs on with STACK_REDIS_MODE=cluster)
from the ``redis-server`` binary and ``redis-cli --cluster create``, like a small Memorystore for Redis
Cluster. ``redis_cluster`` is shared by the session (tests use random key prefixes, as on the single
Redis); ``private_redis_cluster`` belongs to one test, which may kill a primary (failover) or count keys
per node. Every process is stopped afterwards, also on failure; a cluster that cannot start FAILS the test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tools.ops.redis_cluster import LocalCluster
from tools.ops.traffic import OpsError

__all__ = ["LocalCluster", "delete_cluster_namespace", "keys_per_primary"]


def keys_per_primary(cluster: LocalCluster, match: str) -> dict[str, int]:
    """How many keys matching ``match`` each primary holds (SCAN on that node alone)."""
    counts: dict[str, int] = {}
    for node in cluster.primaries():
        with node.client() as c:
            counts[node.address] = sum(1 for _ in c.scan_iter(match=match, count=500))
    return counts


def delete_cluster_namespace(cluster: LocalCluster, namespace: str) -> None:
    """Remove one test's keys from every primary (SCAN + UNLINK per node, never FLUSHALL)."""
    for node in cluster.primaries():
        with contextlib.suppress(redis.RedisError), node.client() as c:
            for key in list(c.scan_iter(match=namespace + "*", count=500)):
                # One key per UNLINK: a node holds many slots, a multi-key UNLINK would be CROSSSLOT.
                c.unlink(key)


@contextlib.contextmanager
def running_cluster(workdir: Path) -> Iterator[LocalCluster]:
    try:
        cluster = LocalCluster(workdir)
        cluster.start()  # stops what it started if it fails
    except OpsError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster the whole session shares (tests keep to their own key prefixes)."""
    with running_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture
def private_redis_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """A cluster only this test uses: it may stop a primary or count every key per node."""
    with running_cluster(tmp_path) as cluster:
        yield cluster
