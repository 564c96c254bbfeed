"""Many speakers: each character sees its own lines as the model's and everyone else's as named user lines."""

from __future__ import annotations

from tests.support.engine import engine
from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeCache, FakeStore
from tests.unit.engine.toy_mode import BOSS, PEER, MeetingMode
from workplace_roleplay.domain.conversation.events import LineDone, LineStarted, ModeEvent, TurnDone
from workplace_roleplay.ports.model import ModelTask


async def test_characters_alone_then_a_learner_line_and_both_characters_answer() -> None:
    model = FakeLanguageModel()
    model.replies = ["では始めます。", "よろしくお願いします。", "ありがとう、続けて。", "いいですね。"]
    service = engine(FakeStore(), FakeCache(), model, mode=MeetingMode())
    conv = await service.start("u1", settings={"agenda": "四半期の振り返り"})

    opening = [e async for e in service.turn(conv, text=None)]  # character lines alone, no learner
    assert [(e.speaker, e.text) for e in opening if isinstance(e, LineDone)] == [
        (BOSS.name, "では始めます。"),
        (PEER.name, "よろしくお願いします。"),
    ]
    events = [e async for e in service.turn(conv, text="報告は以上です。", client_message_id="m1")]
    assert [e.speaker for e in events if isinstance(e, LineStarted)] == [BOSS.name, PEER.name]
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert events[-2] == ModeEvent("agenda", {"agenda": "四半期の振り返り", "turn": 1})  # the mode's own event
    assert done.text == "いいですね。"

    boss_request, peer_request = model.tasks(ModelTask.CONVERSATION_TURN)
    assert "あなたは「高橋課長」" in boss_request.system
    assert "- 佐藤さん" in boss_request.system  # the others are named in its prompt
    # The peer's view of the turn: its own opening line is the model's, the others' lines are named user lines.
    peer_view = [(m.role, m.text) for m in peer_request.messages]
    assert ("model", "よろしくお願いします。") in peer_view
    assert ("user", "高橋課長: では始めます。") in peer_view
    assert ("user", "学習者: 報告は以上です。") in peer_view
    assert ("user", "高橋課長: ありがとう、続けて。") in peer_view
    assert "四半期の振り返り" in peer_request.system
