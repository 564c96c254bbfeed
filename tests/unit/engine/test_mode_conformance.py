"""The engine's behaviours, the same for every registered mode and for a toy mode with two characters."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.engine.harness import Rig, rig
from tests.unit.engine.toy_mode import MeetingMode
from workplace_roleplay.domain.conversation.mode import ConversationMode
from workplace_roleplay.domain.conversation.records import Role
from workplace_roleplay.domain.modes import MODES
from workplace_roleplay.errors import ConversationNotFound
from workplace_roleplay.ports.cache_keys import stream_key

ALL_MODES: dict[str, ConversationMode] = {**{m.value: make() for m, make in MODES.items()}, "toy": MeetingMode()}


@pytest.fixture(params=sorted(ALL_MODES))
def r(request: pytest.FixtureRequest) -> Rig:
    return rig(ALL_MODES[request.param])


async def talk(r: Rig, user: str = "u1", turns: int = 2) -> str:
    conv = await r.service.start(user)
    await r.post_turn(user, conv.id, None, "open")
    for n in range(turns):
        await r.post_turn(user, conv.id, f"{n + 1}回目の発言です。よろしくお願いします。", f"m{n}")
    return conv.id


async def test_start_and_stream_store_every_line_with_its_speaker(r: Rig) -> None:
    conv = await r.service.start("u1")
    responders = r.service.mode.responders(conv, learner_spoke=True)
    events = await r.post_turn("u1", conv.id, "おはようございます。", "m1")
    names = [e.name for e in events]
    assert names[0] == "start"
    assert names[-1] == "done"
    assert "token" in names
    assert names.count("line") == (len(responders) if len(responders) > 1 else 0)
    stored = (await r.service.messages(conv, limit=50, offset=0)).items
    assert [m.role for m in stored] == [Role.LEARNER, *[Role.COUNTERPART] * len(responders)]
    assert [m.speaker for m in stored] == ["learner", *[p.name for p in responders]]
    assert events[-1].data["reply_message_id"] == stored[-1].id


async def test_a_retried_client_message_is_answered_from_the_store(r: Rig) -> None:
    cid = await talk(r, turns=1)
    calls = r.model.streamed
    again = await r.post_turn("u1", cid, "1回目の発言です。よろしくお願いします。", "m0")
    assert again[-1].name == "done"
    assert again[-1].data["replayed"] is True
    assert r.model.streamed == calls
    conv = await r.service.conversation("u1", cid)
    assert conv.turn_count == 1


async def test_a_broken_stream_resumes_after_its_last_event_id(r: Rig) -> None:
    conv = await r.service.start("u1")
    events = await r.post_turn("u1", conv.id, "おはようございます。", "m1")
    status, rest = await r.resume("u1", events[1].id)
    assert status == 200
    assert [e.id for e in rest] == [e.id for e in events[2:]]
    assert (await r.resume("mallory", events[1].id))[0] == 404


async def test_list_get_and_the_active_session(r: Rig) -> None:
    first, second = await talk(r, turns=1), await talk(r, turns=1)
    page = await r.service.conversations("u1", limit=1, offset=0)
    assert [c.id for c in page.items] == [second]
    assert page.next_offset == 1
    assert [c.id for c in (await r.service.conversations("u1", limit=1, offset=1)).items] == [first]
    assert (await r.service.conversation("u1", first)).mode == r.service.mode.mode
    active, _ = await r.service.active("u1")
    assert active is not None
    assert active.id == second


async def test_delete_removes_the_conversation_and_its_stream_buffers(r: Rig) -> None:
    cid = await talk(r, turns=2)
    turn_ids = {
        m.turn_id for m in (await r.service.messages(await r.service.conversation("u1", cid), limit=50, offset=0)).items
    }
    assert any(stream_key(t) in r.cache.lists for t in turn_ids)
    await r.service.delete("u1", cid)
    assert not [t for t in turn_ids if stream_key(t) in r.cache.lists]
    with pytest.raises(ConversationNotFound):
        await r.service.conversation("u1", cid)
    assert not [p for p in r.store.docs if cid in p]


async def test_summary_and_feedback_are_made_and_read_back(r: Rig) -> None:
    cid = await talk(r, turns=2)
    summary = await r.service.summary("u1", cid)
    report = await r.service.feedback("u1", cid)
    assert summary["simple_mode"]
    assert report["simple_mode"]
    assert set(report["scores"])
    assert report["conversation_id"] == cid
    assert await r.service.stored_summary("u1", cid) is not None
    stored = await r.service.stored_feedback("u1", cid)
    assert stored is not None
    assert stored["report_id"] == report["report_id"]


async def test_fork_keeps_the_history_before_the_turn_and_records_its_parent(r: Rig) -> None:
    cid = await talk(r, turns=2)
    child = await r.service.fork("u1", cid, at_turn=2)
    assert (child.parent_id, child.root_id, child.forked_at_turn) == (cid, cid, 2)
    parent_lines = (await r.service.messages(await r.service.conversation("u1", cid), limit=50, offset=0)).items
    kept = (await r.service.messages(child, limit=50, offset=0)).items
    second_learner = [m for m in parent_lines if m.role is Role.LEARNER][1]
    assert [m.text for m in kept] == [m.text for m in parent_lines[: parent_lines.index(second_learner)]]
    events = await r.post_turn("u1", child.id, "言い直してみます。よろしくお願いします。", "retry")
    assert events[-1].name == "done"


async def test_another_learners_conversation_is_not_found_everywhere(r: Rig) -> None:
    cid = await talk(r, turns=1)
    for call in (
        r.service.conversation("mallory", cid),
        r.service.delete("mallory", cid),
        r.service.summary("mallory", cid),
        r.service.feedback("mallory", cid),
        r.service.stored_feedback("mallory", cid),
        r.service.fork("mallory", cid, at_turn=1),
        r.service.family("mallory", cid),
    ):
        with pytest.raises(ConversationNotFound):
            await call
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=r.app), base_url="http://t") as client:
        response = await client.post("/turn/mallory", params={"cid": cid, "cmid": "x", "text": "やあ"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "conversation_not_found"
    assert (await r.service.conversation("u1", cid)).id == cid
