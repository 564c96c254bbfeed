"""The replay buffer seals every event for its owner and turn, and ends a replay it cannot open with an error."""

from __future__ import annotations

import json

from tests.support.fakes import FakeCache
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer
from workplace_roleplay.ports.cache_keys import stream_key
from workplace_roleplay.web.sse import RELOAD_JA, StreamBuffer, follow

REPLY = "先日の会議資料の誤りについてご報告します"


def sealer(**keys: bytes) -> CipherSealer:
    ring = keys or {"k1": b"1" * 32}
    return CipherSealer(AesGcmFieldCipher(primary_kid=next(iter(ring)), keys=ring))


async def filled(cache: FakeCache, turn_id: str, owner: str, seal: CipherSealer) -> StreamBuffer:
    buffer = StreamBuffer(cache, turn_id, ttl_s=60, sealer=seal)
    await buffer.open(owner)
    await buffer.record("start", {"turn_id": turn_id})
    for part in (REPLY[:8], REPLY[8:]):
        await buffer.record("token", {"text": part})
    await buffer.record("analysis", {"better_phrasing": "ご報告があります"})
    await buffer.record("done", {"text": REPLY})
    return buffer


async def test_entries_are_sealed_and_replay_opens_them() -> None:
    cache = FakeCache()
    buffer = await filled(cache, "t1", "alice", sealer())
    raw = b"".join(cache.lists[stream_key("t1")]).decode()
    assert REPLY[:8] not in raw
    assert "ご報告" not in raw
    assert all(set(json.loads(item)) == {"kid", "ct"} for item in cache.lists[stream_key("t1")][1:])
    replayed = await buffer.replay("alice", 1)
    assert [e.event for e in replayed] == ["token", "token", "analysis", "done"]
    assert [e.id for e in replayed] == ["t1.2", "t1.3", "t1.4", "t1.5"]
    assert "".join(str(e.data["text"]) for e in replayed if e.event == "token") == REPLY


async def test_an_entry_copied_into_another_learners_buffer_does_not_open() -> None:
    cache = FakeCache()
    seal = sealer()
    await filled(cache, "t1", "alice", seal)
    mallory = StreamBuffer(cache, "t2", ttl_s=60, sealer=seal)
    await mallory.open("mallory")
    # Mallory, with write access to Redis, copies Alice's reply into her own buffer at the same place.
    for item in cache.lists[stream_key("t1")][1:]:
        await cache.append(stream_key("t2"), item, ttl=60)
    replayed = await mallory.replay("mallory", 0)
    assert [(e.event, e.data) for e in replayed] == [("error", {"code": "stream_unreadable", "message": RELOAD_JA})]
    # Rewriting the owner line of Alice's own buffer does not help either.
    cache.lists[stream_key("t1")][0] = json.dumps({"owner": "mallory"}).encode()
    assert [e.event for e in await StreamBuffer(cache, "t1", ttl_s=60, sealer=seal).replay("mallory", 0)] == ["error"]


async def test_a_tampered_or_reordered_entry_ends_the_replay_with_the_japanese_error() -> None:
    cache = FakeCache()
    buffer = await filled(cache, "t1", "alice", sealer())
    items = cache.lists[stream_key("t1")]
    sealed = json.loads(items[3])
    sealed["ct"] = sealed["ct"][:-4] + ("AAAA" if not sealed["ct"].endswith("AAAA") else "BBBB")
    items[3] = json.dumps(sealed).encode()
    replayed = await buffer.replay("alice", 0)
    assert [e.event for e in replayed] == ["start", "token", "error"]
    assert replayed[-1].data["message"] == RELOAD_JA
    # Swapping two entries is caught as well: each is bound to its number.
    cache2 = FakeCache()
    buffer2 = await filled(cache2, "t1", "alice", sealer())
    items2 = cache2.lists[stream_key("t1")]
    items2[2], items2[3] = items2[3], items2[2]
    assert [e.event for e in await buffer2.replay("alice", 0)] == ["start", "error"]
    # Garbage where an entry should be is the same error, not an exception.
    items2[1] = b"not json"
    assert [e.event for e in await buffer2.replay("alice", 0)] == ["error"]


async def test_a_key_rotated_away_ends_a_following_resume_instead_of_raising() -> None:
    cache = FakeCache()
    await filled(cache, "t1", "alice", sealer(old=b"o" * 32))
    reader = StreamBuffer(cache, "t1", ttl_s=60, sealer=sealer(new=b"n" * 32))
    events = [e async for e in follow(reader, "alice", 0, poll_s=0.01, give_up_s=0.05)]
    assert [(e.event, e.data["code"]) for e in events] == [("error", "stream_unreadable")]
    # A ring that still holds the old key (rotation in progress) reads it.
    both = StreamBuffer(cache, "t1", ttl_s=60, sealer=sealer(new=b"n" * 32, old=b"o" * 32))
    assert [e.event for e in await both.replay("alice", 0)][-1] == "done"
