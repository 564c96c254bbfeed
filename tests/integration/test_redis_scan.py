"""Keyspace enumeration for ops and migration covers every primary of a cluster (and the one server otherwise)."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from redis.asyncio import Redis, RedisCluster

from tests.support.redis_cluster import LocalCluster, keys_per_primary
from workplace_roleplay.adapters.redis_scan import STANDALONE_NODE, delete_matching, scan_keys

pytestmark = pytest.mark.integration

KEYS = 60


async def test_scan_keys_walks_every_primary_and_names_the_node(redis_cluster: LocalCluster) -> None:
    tag = f"scan:{uuid.uuid4().hex[:8]}:"
    client = RedisCluster.from_url(redis_cluster.url)
    try:
        for i in range(KEYS):
            await client.set(f"{tag}{i}", b"v", ex=120)
        found = [(node, key) async for node, key in scan_keys(client, tag + "*", count=7)]
        assert sorted(key.decode() for _, key in found) == sorted(f"{tag}{i}" for i in range(KEYS))
        per_node = Counter(node for node, _ in found)
        assert per_node == Counter(keys_per_primary(redis_cluster, tag + "*"))
        assert len(per_node) == 3
        deleted = await delete_matching(client, tag + "*", batch=9)
        assert deleted == dict(per_node)
        assert [k async for _, k in scan_keys(client, tag + "*")] == []
    finally:
        await client.aclose()


async def test_scan_keys_on_one_server(redis_url: str, redis_namespace: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        for i in range(5):
            await client.set(f"{redis_namespace}k{i}", b"v", ex=120)
        found = [(node, key) async for node, key in scan_keys(client, redis_namespace + "*")]
        assert {node for node, _ in found} == {STANDALONE_NODE}
        assert len(found) == 5
        assert await delete_matching(client, redis_namespace + "*") == {STANDALONE_NODE: 5}
    finally:
        await client.aclose()
