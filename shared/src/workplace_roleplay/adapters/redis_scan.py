"""Keyspace enumeration that covers every shard: SCAN on each primary of a cluster, or the one server.

A SCAN sent through :class:`redis.asyncio.RedisCluster` without a target reaches one node, so cache
clearing, stale-session cleanup and the migration's enumeration of a legacy Redis would silently cover
a third of a three-shard cluster. :func:`scan_keys` walks each primary's cursor to the end instead and
says which node every key came from. Deleting goes per slot (:func:`unlink_keys`), because a node
holds many slots and a multi-key UNLINK across slots is refused with CROSSSLOT.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Final

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode

from workplace_roleplay.adapters.redis_connection import RedisClient

SCAN_BATCH: Final = 500
STANDALONE_NODE: Final = "standalone"


def node_name(node: ClusterNode) -> str:
    return f"{node.host}:{node.port}"


async def _scan_node(client: RedisCluster, node: ClusterNode, match: str, count: int) -> AsyncIterator[bytes]:
    cursor = 0
    while True:
        reply = await client.execute_command("SCAN", cursor, "MATCH", match, "COUNT", count, target_nodes=node)
        # redis-py merges per-node SCAN replies as ({node_name: cursor}, keys); one node here.
        if isinstance(reply, dict):
            reply = next(iter(reply.values()))
        first, keys = reply[0], reply[1]
        cursor = int(next(iter(first.values())) if isinstance(first, dict) else first)
        for key in keys:
            yield key if isinstance(key, bytes) else str(key).encode()
        if cursor == 0:
            return


async def scan_keys(client: RedisClient, match: str, *, count: int = SCAN_BATCH) -> AsyncIterator[tuple[str, bytes]]:
    """Every key matching the glob ``match`` as (node, key): each primary of a cluster in turn.

    SCAN's guarantees hold per node: a key present for the whole walk is returned (possibly twice);
    keys created or moved by a resharding during the walk may be missed. Callers that delete must
    therefore be idempotent, as cache clearing and session cleanup are.
    """
    if isinstance(client, RedisCluster):
        for node in client.get_primaries():
            async for key in _scan_node(client, node, match, count):
                yield node_name(node), key
        return
    async for key in client.scan_iter(match=match, count=count):
        yield STANDALONE_NODE, key if isinstance(key, bytes) else str(key).encode()


def group_by_slot(client: RedisCluster, keys: Iterable[bytes | str]) -> list[list[bytes | str]]:
    groups: dict[int, list[bytes | str]] = defaultdict(list)
    for key in keys:
        groups[client.keyslot(key)].append(key)
    return list(groups.values())


async def unlink_keys(client: RedisClient, keys: Sequence[bytes | str]) -> int:
    """UNLINK ``keys`` (one command on a single server, one per slot on a cluster); how many existed."""
    if not keys:
        return 0
    if isinstance(client, Redis):
        return int(await client.unlink(*keys))
    deleted = 0
    for group in group_by_slot(client, keys):
        deleted += int(await client.unlink(*group))
    return deleted


async def delete_matching(client: RedisClient, match: str, *, batch: int = SCAN_BATCH) -> dict[str, int]:
    """Delete every key matching ``match`` on every primary; how many each node held (absent: none)."""
    per_node: dict[str, int] = defaultdict(int)
    pending: list[bytes | str] = []
    pending_node = ""
    async for node, key in scan_keys(client, match, count=batch):
        if pending and (node != pending_node or len(pending) >= batch):
            per_node[pending_node] += await unlink_keys(client, pending)
            pending = []
        pending_node = node
        pending.append(key)
    if pending:
        per_node[pending_node] += await unlink_keys(client, pending)
    return dict(per_node)
