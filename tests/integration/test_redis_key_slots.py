"""Hash tags keep each owner's keys in one cluster slot; without them the same transaction fails with CROSSSLOT.

The keys are built by the code's own key builders (ports/cache_keys.py, as the adapters and domain use
them). If a builder loses its hash tag, the one-slot assertions and the real MULTI/EXEC and Lua script
on the cluster below fail, the latter with Redis's CROSSSLOT refusal.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from redis.crc import key_slot
from redis.exceptions import ClusterCrossSlotError, CrossSlotTransactionError

from tests.support.redis_cluster import LocalCluster
from workplace_roleplay.adapters.redis_connection import UNAVAILABLE, RedisClient, RedisConnection
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.cache_keys import ratelimit_key, session_key, stream_key

# Per owner, the keys the code builds for it (route classes of web/ratelimit.py, budget days of
# domain/speech.py). Each group must share one slot.
ROUTE_CLASSES = ("default", "model", "auth")
OWNER_GROUPS: dict[str, list[str]] = {
    "rate limits of one learner": [ratelimit_key(f"user:u-42:{route}") for route in ROUTE_CLASSES],
    "rate limits of one IPv6 client": [ratelimit_key(f"ip:2001:db8::7:{route}") for route in ROUTE_CLASSES],
    "tts budget days of one learner": [ratelimit_key(f"tts:9f2c41d0:{day}") for day in ("20261203", "20261204")],
}
# Single keys hashed by their owner alone (so a future companion key of the owner joins its slot).
OWNED_KEYS = {"t8f3a": stream_key("t8f3a"), "u-42": session_key("u-42")}

COUNTER_LUA = "for i, k in ipairs(KEYS) do redis.call('INCR', k) redis.call('EXPIRE', k, 60) end return #KEYS"


def untagged(key: str) -> str:
    return key.replace("{", "").replace("}", "")


@pytest.fixture
def cluster_client(redis_cluster: LocalCluster) -> Iterator[redis.RedisCluster]:
    client = redis.RedisCluster.from_url(redis_cluster.url)
    try:
        yield client
    finally:
        client.close()


@pytest.mark.parametrize("group", sorted(OWNER_GROUPS))
def test_each_owner_group_is_one_slot(group: str) -> None:
    keys = OWNER_GROUPS[group]
    assert len({key_slot(k.encode()) for k in keys}) == 1, keys
    # ...and that slot is the owner's, not a coincidence of whole-key hashes.
    assert len({key_slot(untagged(k).encode()) for k in keys}) > 1, "the control keys should spread"


@pytest.mark.parametrize("group", sorted(OWNER_GROUPS))
def test_a_transaction_and_a_script_over_an_owner_group_run_on_the_cluster(
    group: str, cluster_client: redis.RedisCluster, redis_namespace: str
) -> None:
    keys = [redis_namespace + k for k in OWNER_GROUPS[group]]
    try:
        with cluster_client.pipeline(transaction=True) as pipe:  # type: ignore[no-untyped-call]
            for key in keys:
                pipe.set(key, b"1", ex=60)
            assert len(pipe.execute()) == len(keys)
        assert cluster_client.mget(keys) == [b"1"] * len(keys)
        assert cluster_client.eval(COUNTER_LUA, len(keys), *keys) == len(keys)
        assert cluster_client.unlink(*keys) == len(keys)  # one multi-key command, one slot
    finally:
        for key in keys:
            cluster_client.unlink(key)


@pytest.mark.parametrize("owner", sorted(OWNED_KEYS))
def test_single_owner_keys_hash_by_their_owner(owner: str) -> None:
    assert key_slot(OWNED_KEYS[owner].encode()) == key_slot(owner.encode())


def _transaction(client: redis.RedisCluster, keys: list[str]) -> None:
    with client.pipeline(transaction=True) as pipe:  # type: ignore[no-untyped-call]
        for key in keys:
            pipe.set(key, b"1", ex=60)
        pipe.execute()


def test_the_same_transaction_without_hash_tags_fails_with_crossslot(
    cluster_client: redis.RedisCluster, redis_namespace: str
) -> None:
    keys = [redis_namespace + untagged(k) for k in OWNER_GROUPS["rate limits of one learner"]]
    # Sent straight to the node of the first key, so the refusal is the server's own CROSSSLOT error.
    node = cluster_client.get_node_from_key(keys[0])  # type: ignore[no-untyped-call]
    # redis-py turns the server's "-CROSSSLOT Keys in request don't hash to the same slot" into this class.
    with pytest.raises(ClusterCrossSlotError, match="same slot"):
        cluster_client.execute_command("EVAL", COUNTER_LUA, len(keys), *keys, target_nodes=node)  # type: ignore[no-untyped-call]
    with pytest.raises(CrossSlotTransactionError, match="same slot"):
        _transaction(cluster_client, keys)


async def test_a_crossslot_refusal_degrades_the_call_but_does_not_open_the_breaker(
    redis_cluster: LocalCluster, redis_namespace: str
) -> None:
    """A key-design bug is a refused command, not an outage: that call degrades, Redis stays in use."""
    connection = RedisConnection.from_url(redis_cluster.url, timeout_s=1.0, clock=SystemClock(), mode="cluster")
    keys = [redis_namespace + untagged(k) for k in OWNER_GROUPS["rate limits of one learner"]]

    async def cross_slot_transaction(r: RedisClient) -> object:
        async with r.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.set(key, b"1", ex=60)
            return await pipe.execute()

    async def tagged_set(r: RedisClient) -> object:
        return await r.set(redis_namespace + ratelimit_key("user:u-42:default"), b"1", ex=60)

    try:
        assert await connection.call("test", cross_slot_transaction) is UNAVAILABLE
        assert not connection.breaker.is_open
        assert await connection.call("test", tagged_set) is True
    finally:
        await connection.close()
