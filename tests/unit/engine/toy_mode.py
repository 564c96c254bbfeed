"""A toy mode with two AI characters and the learner: everything a mode has to write to get the engine."""

from __future__ import annotations

from collections.abc import Mapping

from workplace_roleplay.domain.conversation.cast import Cast, Part, Participant, cast_of
from workplace_roleplay.domain.conversation.events import ModeEvent, TurnDone
from workplace_roleplay.domain.conversation.mode import ModeBase
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.errors import InvalidInput

BOSS = Participant(key="boss", name="高橋課長", part=Part.CHARACTER, rank="boss")
PEER = Participant(key="peer", name="佐藤さん", part=Part.CHARACTER, rank="peer")


class MeetingMode(ModeBase):
    """A stand-up meeting: after each learner line the boss answers, then the colleague."""

    mode = "toy_meeting"

    def settings(self, raw: Mapping[str, str | None]) -> dict[str, str]:
        agenda = raw.get("agenda") or "週次定例"
        if len(agenda) > 40:
            raise InvalidInput("agenda is too long")
        return {"agenda": agenda}

    def cast(self, conv: Conversation) -> Cast:
        return cast_of(BOSS, PEER)

    def brief(self, conv: Conversation, speaker: Participant) -> str:
        role = "進行役の課長" if speaker is BOSS else "同じチームの同僚"
        return f"あなたは「{speaker.name}」（{role}）。議題: {conv.settings['agenda']}。"

    def opening_instruction(self, conv: Conversation, speaker: Participant) -> str:
        return "会議を始める最初のひと言を返してください。"

    def responders(self, conv: Conversation, *, learner_spoke: bool) -> tuple[Participant, ...]:
        return (BOSS, PEER)

    async def extra_events(self, conv: Conversation, done: TurnDone) -> list[ModeEvent]:
        return [ModeEvent("agenda", {"agenda": conv.settings["agenda"], "turn": conv.turn_count})]
