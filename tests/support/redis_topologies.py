"""The Redis topologies the contract suites run on: the single shared Redis and the session's cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_cluster import LocalCluster, delete_cluster_namespace
from workplace_roleplay.adapters.redis_connection import RedisMode

# memory is the in-process adapter; redis is one server; cluster is three primaries with a replica each.
TOPOLOGIES = ["memory", "redis", "cluster"]


def redis_target(request: pytest.FixtureRequest) -> Iterator[tuple[str, RedisMode, str]]:
    """(url, mode, namespace) of the topology ``request.param`` names; the namespace's keys go afterwards."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        namespace: str = request.getfixturevalue("redis_namespace")
        yield url, "standalone", namespace
        return
    cluster: LocalCluster = request.getfixturevalue("redis_cluster")
    namespace = request.getfixturevalue("redis_namespace")
    try:
        yield cluster.url, "cluster", namespace
    finally:
        delete_cluster_namespace(cluster, namespace)
