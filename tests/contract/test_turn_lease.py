"""The turn lease (ADR 0010) on every document store: the fake, SQLite and the Firestore emulator.

The lease is what makes "one turn at a time per conversation" hold, so its rules are checked on each
adapter directly: one holder at a time, the same turn told apart from another, expiry frees it, only
the holder renews or clears it, and concurrent takers get exactly one winner.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.clock import ManualClock
from workplace_roleplay.domain.conversation.records import ConversationRepository
from workplace_roleplay.domain.conversation.turn_lease import LEASE_FIELD, TurnLeases
from workplace_roleplay.errors import AnotherTurnInProgress, ConversationNotFound, TurnInProgress
from workplace_roleplay.ports import DocumentStore


async def test_one_holder_at_a_time_and_the_same_turn_is_told_apart(store: DocumentStore) -> None:
    clock = ManualClock()
    repo = ConversationRepository(store, clock)
    conv = await repo.create("u1", mode="chat", settings={}, coaching=True)
    leases = TurnLeases(store, clock, lease_s=10.0)
    lease, doc = await leases.acquire(conv, "t1")
    assert doc["mode"] == "chat"
    assert await leases.running(conv) == "t1"
    with pytest.raises(TurnInProgress) as same:
        await leases.acquire(conv, "t1")
    assert not isinstance(same.value, AnotherTurnInProgress)
    with pytest.raises(AnotherTurnInProgress) as other:
        await leases.acquire(conv, "t2")
    assert other.value.code == "turn_in_progress"
    assert other.value.extra["turn_id"] == "t1"
    await leases.release(conv, lease)
    assert await leases.running(conv) is None
    stored = await store.get(conv.path)
    assert stored is not None
    assert stored[LEASE_FIELD] is None
    await leases.acquire(conv, "t2")


async def test_an_expired_lease_frees_the_conversation_and_its_old_holder_cannot_touch_the_new_one(
    store: DocumentStore,
) -> None:
    clock = ManualClock()
    repo = ConversationRepository(store, clock)
    conv = await repo.create("u1", mode="chat", settings={}, coaching=True)
    leases = TurnLeases(store, clock, lease_s=10.0)
    dead, _ = await leases.acquire(conv, "t1")
    clock.advance(9.0)
    assert await leases.running(conv) == "t1"
    clock.advance(1.5)  # nobody renewed: the holder is gone
    assert await leases.running(conv) is None
    alive, _ = await leases.acquire(conv, "t2")
    assert not await leases.renew(conv, dead)  # the old holder lost it
    await leases.release(conv, dead)  # and clearing is a no-op for it
    assert await leases.running(conv) == "t2"
    clock.advance(8.0)
    assert await leases.renew(conv, alive)
    clock.advance(8.0)  # 16 s after taking it, alive thanks to the renewal
    assert await leases.running(conv) == "t2"


async def test_concurrent_takers_get_exactly_one_winner(store: DocumentStore) -> None:
    clock = ManualClock()
    repo = ConversationRepository(store, clock)
    conv = await repo.create("u1", mode="chat", settings={}, coaching=True)
    leases = TurnLeases(store, clock, lease_s=10.0)
    results = await asyncio.gather(*(leases.acquire(conv, f"t{n}") for n in range(4)), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(r, AnotherTurnInProgress) for r in results if isinstance(r, BaseException))


async def test_a_missing_conversation_has_no_lease(store: DocumentStore) -> None:
    clock = ManualClock()
    repo = ConversationRepository(store, clock)
    conv = await repo.create("u1", mode="chat", settings={}, coaching=True)
    await store.delete(conv.path)
    with pytest.raises(ConversationNotFound):
        await TurnLeases(store, clock, lease_s=10.0).acquire(conv, "t1")
