"""Branching: fork at turn 2 of a 4-turn conversation, continue both, compare their reports."""

from __future__ import annotations

import pytest

from tests.unit.engine.harness import Rig, rig
from tests.unit.engine.toy_mode import MeetingMode
from workplace_roleplay.domain.conversation.records import Role
from workplace_roleplay.domain.modes.chat import ChatMode
from workplace_roleplay.errors import InvalidInput

LINES = ["おはようございます。", "進捗を報告します。", "来週までに仕上げます。", "ご確認をお願いします。"]


async def say_all(r: Rig, cid: str, lines: list[str], prefix: str) -> None:
    for n, line in enumerate(lines):
        events = await r.post_turn("u1", cid, line, f"{prefix}{n}")
        assert events[-1].name == "done"


@pytest.mark.parametrize("mode", [ChatMode(), MeetingMode()], ids=["chat", "toy"])
async def test_fork_at_turn_two_continues_independently_and_reports_compare(
    mode: ChatMode | MeetingMode,
) -> None:
    r = rig(mode)
    parent = await r.service.start("u1")
    await r.post_turn("u1", parent.id, None, "open")
    await say_all(r, parent.id, LINES, "p")

    child = await r.service.fork("u1", parent.id, at_turn=2)
    assert child.turn_count == 1
    await say_all(
        r, child.id, ["実は一点ご相談があります。", "期限を一日延ばせますか？", "ありがとうございます。"], "c"
    )

    parent_now = await r.service.conversation("u1", parent.id)
    child_now = await r.service.conversation("u1", child.id)
    assert parent_now.turn_count == 4
    assert child_now.turn_count == 4
    child_learner = [
        m.text for m in (await r.service.messages(child_now, limit=100, offset=0)).items if m.role is Role.LEARNER
    ]
    assert child_learner == [
        LINES[0],
        "実は一点ご相談があります。",
        "期限を一日延ばせますか？",
        "ありがとうございます。",
    ]
    parent_learner = [
        m.text for m in (await r.service.messages(parent_now, limit=100, offset=0)).items if m.role is Role.LEARNER
    ]
    assert parent_learner == LINES  # the parent is untouched by its fork

    parent_report = await r.service.feedback("u1", parent.id)
    child_report = await r.service.feedback("u1", child.id)
    assert parent_report["report_id"] != child_report["report_id"]

    family = await r.service.family("u1", child.id)
    assert [(m.conversation.id, m.conversation.parent_id, m.conversation.forked_at_turn) for m in family] == [
        (parent.id, "", 0),
        (child.id, parent.id, 2),
    ]
    assert [m.feedback["report_id"] if m.feedback else None for m in family] == [
        parent_report["report_id"],
        child_report["report_id"],
    ]
    # Both appear in the learner's list; a fork of a fork stays in the same family.
    listed = {c.id for c in (await r.service.conversations("u1", limit=10, offset=0)).items}
    assert {parent.id, child.id} <= listed
    grandchild = await r.service.fork("u1", child.id, at_turn=3)
    assert (grandchild.parent_id, grandchild.root_id) == (child.id, parent.id)
    assert len(await r.service.family("u1", parent.id)) == 3


async def test_a_fork_outside_the_learner_turns_is_refused() -> None:
    r = rig(ChatMode())
    conv = await r.service.start("u1")
    await say_all(r, conv.id, LINES[:2], "p")
    for turn in (0, 3):
        with pytest.raises(InvalidInput):
            await r.service.fork("u1", conv.id, at_turn=turn)
