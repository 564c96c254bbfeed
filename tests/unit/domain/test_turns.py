"""The shared turn pipeline, driven through the chat use cases over fakes of our ports."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeCache, FakeStore
from tests.unit.domain.conftest import make_service
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.events import (
    AnalysisReady,
    Token,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
)
from workplace_roleplay.domain.conversation.records import Conversation, MessageStatus, Role
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.errors import ConversationNotFound, MessageBlocked, RepeatedMessage, TurnInProgress
from workplace_roleplay.ports.model import ModelTask

ANALYSIS = {
    "sentiment": 0.6,
    "emotion": "楽しそう",
    "politeness": "polite",
    "politeness_fit": "good",
    "tone": "明るい",
    "advice": "相手の週末についても聞いてみましょう。",
    "better_phrasing": "週末は山に行きました。〇〇さんはどう過ごされましたか？",
}


async def collect(chat: ChatService, conv: Conversation, text: str | None, cmid: str = "") -> list[TurnEvent]:
    return [e async for e in chat.turn(conv, text=text, client_message_id=cmid)]


async def test_opening_line_is_streamed_and_stored(chat: ChatService, model: FakeLanguageModel) -> None:
    model.replies = ["お疲れさまです。今日は暑いですね。"]
    conv = await chat.start("u1", settings={"partner_type": "boss", "situation": "morning", "topic": "general"})
    events = await collect(chat, conv, None)
    assert isinstance(events[0], TurnStarted)
    assert events[0].learner_message_id is None
    assert "".join(e.text for e in events if isinstance(e, Token)) == "お疲れさまです。今日は暑いですね。"
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert done.status == "complete"
    assert done.model == "fake-flash"
    (request,) = model.requests
    assert request.task is ModelTask.OPENING
    assert "高橋課長" in request.system
    assert "オフィスに着いて" in request.system
    assert request.hints["partner_type"] == "boss"
    stored = (await chat.messages(conv, limit=10, offset=0)).items
    assert [(m.role, m.text, m.speaker) for m in stored] == [
        (Role.COUNTERPART, "お疲れさまです。今日は暑いですね。", "高橋課長")
    ]


async def test_turn_stores_both_lines_and_coaching_follows_the_reply(
    chat: ChatService, model: FakeLanguageModel
) -> None:
    model.replies = ["いいですね！どこの山ですか？"]
    model.structured[ModelTask.TURN_ANALYSIS] = [ANALYSIS]
    conv = await chat.start("u1")
    events = await collect(chat, conv, "週末は山に行きました。\n楽しかったです。", "m-1")
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "TurnStarted"
    assert kinds[-2:] == ["AnalysisReady", "TurnDone"]
    done = events[-1]
    assert isinstance(done, TurnDone)
    stored = (await chat.messages(conv, limit=10, offset=0)).items
    assert [m.text for m in stored] == ["週末は山に行きました。\n楽しかったです。", "いいですね！どこの山ですか？"]
    assert stored[0].id == done.learner_message_id
    assert stored[1].id == done.reply_message_id
    assert stored[0].analysis is not None
    assert stored[0].analysis["advice"] == ANALYSIS["advice"]
    assert stored[1].status is MessageStatus.COMPLETE
    assert stored[1].output_tokens > 0
    # The learner's newlines reach the model unchanged (the legacy app collapsed them).
    turn_request = model.tasks(ModelTask.CONVERSATION_TURN)[0]
    assert turn_request.messages[-1].text == "週末は山に行きました。\n楽しかったです。"
    refreshed = await chat.conversation("u1", conv.id)
    assert refreshed.turn_count == 1
    assert refreshed.title.startswith("週末は山に")


async def test_repeated_client_message_id_replays_without_a_second_model_call(
    chat: ChatService, model: FakeLanguageModel
) -> None:
    model.replies = ["そうなんですね。"]
    model.structured[ModelTask.TURN_ANALYSIS] = [ANALYSIS]
    conv = await chat.start("u1")
    first = await collect(chat, conv, "こんにちは", "same-id")
    second = await collect(chat, conv, "こんにちは", "same-id")
    assert len(model.tasks(ModelTask.CONVERSATION_TURN)) == 1
    done_1, done_2 = first[-1], second[-1]
    assert isinstance(done_1, TurnDone)
    assert isinstance(done_2, TurnDone)
    assert done_2.replayed
    assert done_2.reply_message_id == done_1.reply_message_id
    assert any(isinstance(e, AnalysisReady) for e in second)
    assert len((await chat.messages(conv, limit=10, offset=0)).items) == 2


async def test_same_id_while_the_first_is_streaming_is_a_conflict(chat: ChatService, model: FakeLanguageModel) -> None:
    model.chunk_delay_s = 0.05
    conv = await chat.start("u1")
    running = chat.turn(conv, text="こんにちは", client_message_id="x")
    assert isinstance(await anext(running), TurnStarted)
    with pytest.raises(TurnInProgress):
        await collect(chat, conv, "こんにちは", "x")
    await running.aclose()


async def test_model_failure_mid_stream_keeps_partial_text_and_the_conversation_usable(
    chat: ChatService, model: FakeLanguageModel
) -> None:
    model.replies = ["一二三四五六七八九十", "次は大丈夫です。"]
    model.fail_after_chunks = 2
    conv = await chat.start("u1", settings={"topic": "general"})
    events = await collect(chat, conv, "最近どうですか", "a")
    failed = events[-1]
    assert isinstance(failed, TurnFailed)
    assert failed.code == "model_unavailable"
    assert failed.partial_text == "一二三四五六"
    assert failed.reply_message_id is not None
    assert "AI" in failed.message_ja
    stored = (await chat.messages(conv, limit=10, offset=0)).items
    assert [(m.status, m.text) for m in stored][1] == (MessageStatus.PARTIAL, "一二三四五六")
    model.fail_after_chunks = None
    again = await collect(chat, conv, "もう一度聞きますね", "b")
    assert isinstance(again[-1], TurnDone)
    assert again[-1].text == "次は大丈夫です。"


async def test_failure_before_any_text_marks_the_turn_failed_and_a_retry_runs_again(
    chat: ChatService, model: FakeLanguageModel
) -> None:
    model.fail_after_chunks = 0
    conv = await chat.start("u1")
    events = await collect(chat, conv, "こんにちは", "r")
    assert isinstance(events[-1], TurnFailed)
    assert events[-1].reply_message_id is None
    stored = (await chat.messages(conv, limit=10, offset=0)).items
    assert stored[-1].status is MessageStatus.FAILED
    model.fail_after_chunks = None
    model.replies = ["こんにちは！"]
    retry = await collect(chat, conv, "こんにちは", "r")
    assert isinstance(retry[-1], TurnDone)
    assert not retry[-1].replayed
    assert len(model.tasks(ModelTask.CONVERSATION_TURN)) == 2


async def test_cancelled_turn_stores_the_partial_reply_and_closes_the_model_stream(
    chat: ChatService, model: FakeLanguageModel
) -> None:
    model.replies = ["あいうえおかきくけこさしすせそ"]
    model.chunk_delay_s = 0.05
    conv = await chat.start("u1")
    seen: list[str] = []
    two_tokens = asyncio.Event()

    async def drive() -> None:
        async for event in chat.turn(conv, text="こんにちは", client_message_id="c"):
            if isinstance(event, Token):
                seen.append(event.text)
                if len(seen) == 2:
                    two_tokens.set()

    task = asyncio.create_task(drive())
    await two_tokens.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = (await chat.messages(conv, limit=10, offset=0)).items
    reply = stored[-1]
    assert reply.role is Role.COUNTERPART
    assert reply.status is MessageStatus.PARTIAL
    assert reply.text.startswith("".join(seen))
    assert len(reply.text) < 15
    assert model.closed_streams == 1


async def test_ng_words_are_blocked_before_anything_is_stored_or_sent(
    chat: ChatService, model: FakeLanguageModel
) -> None:
    conv = await chat.start("u1")
    before = REGISTRY.get_sample_value("moderation_decisions_total", {"mode": "chat", "reason": "inappropriate_word"})
    with pytest.raises(MessageBlocked) as info:
        await collect(chat, conv, "そんなの、バカみたい", "n")
    after = REGISTRY.get_sample_value("moderation_decisions_total", {"mode": "chat", "reason": "inappropriate_word"})
    assert (after or 0) == (before or 0) + 1
    assert info.value.extra["filtered_text"] == "そんなの、**みたい"
    assert model.requests == []
    assert (await chat.messages(conv, limit=10, offset=0)).items == []


async def test_the_same_line_three_times_is_a_loop(chat: ChatService, model: FakeLanguageModel) -> None:
    conv = await chat.start("u1")
    await collect(chat, conv, "はい", "1")
    await collect(chat, conv, "はい", "2")
    with pytest.raises(RepeatedMessage):
        await collect(chat, conv, "はい", "3")
    assert len(model.tasks(ModelTask.CONVERSATION_TURN)) == 2


async def test_off_topic_lines_get_a_nudge_not_a_block(chat: ChatService, model: FakeLanguageModel) -> None:
    conv = await chat.start("u1", settings={"topic": "food"})
    events = await collect(chat, conv, "来月の資格試験に向けて毎晩勉強しています", "o")
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert "話題" in done.nudge
    on_topic = await collect(chat, conv, "駅前のラーメン屋さん、美味しかったですよ", "p")
    assert isinstance(on_topic[-1], TurnDone)
    assert on_topic[-1].nudge == ""


async def test_another_learners_conversation_is_not_found(chat: ChatService) -> None:
    conv = await chat.start("owner")
    with pytest.raises(ConversationNotFound):
        await chat.conversation("intruder", conv.id)
    with pytest.raises(ConversationNotFound):
        await chat.conversation("owner", "../../users/x")


async def test_rolling_summary_kicks_in_past_the_budget(
    store: FakeStore, cache: FakeCache, model: FakeLanguageModel, background: BackgroundWork
) -> None:
    chat = make_service(store, cache, model, background, context_tokens=60, memory_every_turns=0)
    model.texts[ModelTask.SUMMARY] = ["学習者は週末に登山をした話をした。"]
    conv = await chat.start("u1")
    lines = ["週末に登山に行ってきました", "富士山の五合目まで行きました", "天気がよくて景色が最高でした"]
    for index, line in enumerate(lines):
        await collect(chat, conv, line, f"t{index}")
        await background.drain()
    assert len(model.tasks(ModelTask.SUMMARY)) >= 1
    conv = await chat.conversation("u1", conv.id)
    assert conv.rolling_summary == "学習者は週末に登山をした話をした。"
    await collect(chat, conv, "また行きたいです", "t9")
    last = model.tasks(ModelTask.CONVERSATION_TURN)[-1]
    assert "学習者は週末に登山をした話をした。" in last.system
    assert all(m.text != lines[0] for m in last.messages)


async def test_memories_are_extracted_and_recalled_into_the_next_prompt(
    store: FakeStore, cache: FakeCache, model: FakeLanguageModel, background: BackgroundWork
) -> None:
    chat = make_service(store, cache, model, background, memory_every_turns=1)
    model.structured[ModelTask.MEMORY_EXTRACTION] = [
        {"facts": [{"text": "学習者はキャンプが趣味で、よく山梨に行く", "kind": "preference", "salience": 0.9}]}
    ]
    conv = await chat.start("u1", settings={"topic": "hobby"})
    await collect(chat, conv, "趣味はキャンプで、よく山梨に行きます", "k1")
    await background.drain()
    memories = await chat.memories("u1")
    assert [m.text for m in memories] == ["学習者はキャンプが趣味で、よく山梨に行く"]
    other = await chat.start("u1", settings={"topic": "hobby"})
    await collect(chat, other, "今度の休みもキャンプに行く予定です", "k2")
    system = model.tasks(ModelTask.CONVERSATION_TURN)[-1].system
    assert "学習者はキャンプが趣味で、よく山梨に行く" in system
    await chat.forget_memory("u1", memories[0].id)
    assert await chat.memories("u1") == []


async def test_simple_mode_gives_an_honest_rule_based_card(
    store: FakeStore, cache: FakeCache, background: BackgroundWork
) -> None:
    from workplace_roleplay.ports.model import GenerationMode

    simple = FakeLanguageModel(mode=GenerationMode.SIMPLE, model="simple")
    simple.structured[ModelTask.TURN_ANALYSIS] = [ANALYSIS]
    chat = make_service(store, cache, simple, background)
    conv = await chat.start("u1", settings={"partner_type": "client"})
    events = await collect(chat, conv, "了解、それでいこう", "s")
    (card,) = [e for e in events if isinstance(e, AnalysisReady)]
    assert card.analysis["simple_mode"] is True
    assert card.analysis["politeness"] == "casual"
    assert card.analysis["politeness_fit"] == "too_casual"
    assert card.analysis["better_phrasing"] == ""  # no invented rephrasing without a model
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert done.simple_mode


async def test_hot_session_state_is_an_optimisation_only(
    chat: ChatService, cache: FakeCache, model: FakeLanguageModel
) -> None:
    conv = await chat.start("u1")
    await collect(chat, conv, "こんにちは", "h1")
    state = await chat.session.read("u1")
    assert state["active_chat"] == conv.id
    assert state["turns"] == 1
    cache.down = True  # Redis gone: turns still work from the store
    events = await collect(chat, conv, "元気ですか", "h2")
    assert isinstance(events[-1], TurnDone)
    assert await chat.session.read("u1") == {}
    assert len((await chat.messages(conv, limit=10, offset=0)).items) == 4


async def test_closing_the_turn_between_tokens_stores_the_partial_reply_at_once(
    chat: ChatService, model: FakeLanguageModel
) -> None:
    model.replies = ["あいうえおかきくけこさしすせそ"]
    conv = await chat.start("u1")
    events = chat.turn(conv, text="こんにちは", client_message_id="g")
    seen = [await anext(events) for _ in range(3)]  # start + two tokens
    assert [type(e).__name__ for e in seen] == ["TurnStarted", "Token", "Token"]
    await events.aclose()  # the reader went away while the pipeline sat at a yield
    reply = ((await chat.messages(conv, limit=10, offset=0)).items)[-1]
    assert reply.status is MessageStatus.PARTIAL
    assert reply.text == "あいうえおか"
    assert model.closed_streams == 1
