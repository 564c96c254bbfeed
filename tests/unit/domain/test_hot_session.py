"""The hot session is read: it names the conversation to resume; the store answers when it cannot."""

from __future__ import annotations

import pytest

from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.errors import ConversationNotFound


async def take_a_turn(chat: ChatService, user_id: str) -> str:
    conv = await chat.start(user_id, settings={"partner_type": "senior"})
    [_ async for _ in chat.turn(conv, text="お疲れさまです。", client_message_id="m1")]
    return conv.id


async def test_the_hot_session_names_the_conversation_without_a_store_query(
    chat: ChatService, store: FakeStore
) -> None:
    older = await take_a_turn(chat, "u1")
    active = await take_a_turn(chat, "u1")
    store.queried.clear()
    conv, source = await chat.active("u1")
    assert source == "cache"
    assert conv is not None
    assert conv.id == active != older
    assert store.queried == []  # one read by id, no listing of the learner's conversations


async def test_with_the_cache_down_the_newest_conversation_comes_from_the_store(
    chat: ChatService, store: FakeStore, cache: FakeCache
) -> None:
    await take_a_turn(chat, "u1")
    newest = await take_a_turn(chat, "u1")
    cache.down = True
    conv, source = await chat.active("u1")
    assert source == "store"
    assert conv is not None
    assert conv.id == newest
    assert any(collection == "users/u1/conversations" for collection, _ in store.queried)


async def test_an_expired_or_stale_pointer_falls_back_and_is_rewarmed(chat: ChatService, cache: FakeCache) -> None:
    assert await chat.active("u1") == (None, "store")
    kept = await take_a_turn(chat, "u1")
    gone = await take_a_turn(chat, "u1")
    await chat.repo.delete("u1", gone)  # deleted behind the hot session's back: a stale pointer
    conv, source = await chat.active("u1")
    assert source == "store"
    assert conv is not None
    assert conv.id == kept
    cache.data.clear()  # the key expired
    conv, source = await chat.active("u1")
    assert source == "store"
    assert conv is not None
    assert conv.id == kept
    again, source = await chat.active("u1")  # written back: the next read is a hit
    assert source == "cache"
    assert again is not None
    assert again.id == kept


async def test_the_chat_service_never_resumes_lists_or_opens_another_modes_conversation(
    chat: ChatService, cache: FakeCache
) -> None:
    # Every mode shares users/{uid}/conversations; a newer scenario conversation must stay invisible to chat.
    chat_id = await take_a_turn(chat, "u1")
    scenario = await chat.repo.create("u1", mode="scenario", settings={"scenario_id": "s1"}, coaching=False)
    cache.down = True  # force the store fallback
    conv, source = await chat.active("u1")
    assert source == "store"
    assert conv is not None
    assert conv.id == chat_id
    assert [c.id for c in (await chat.conversations("u1", limit=10, offset=0)).items] == [chat_id]
    with pytest.raises(ConversationNotFound):
        await chat.conversation("u1", scenario.id)
