"""The scenario mode (シナリオ練習): one catalog scenario played against its counterpart(s) from the roster.

Settings carry ``scenario_id`` (validated against the catalog); the cast is the scenario's counterparts,
the one who opens first; the brief, opening instruction and model hints come from ``domain/scenario/prompt``.
After each learner turn the mode sends a ``mood`` event: the counterpart's inner state, rule-based and
explained line by line (``domain/scenario/mood.py``, ADR 0029).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from workplace_roleplay.domain.conversation.cast import Cast, Part, Participant, cast_of
from workplace_roleplay.domain.conversation.events import ModeEvent, TurnDone
from workplace_roleplay.domain.conversation.mode import Mode, ModeBase
from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Role
from workplace_roleplay.domain.scenario import mood, prompt
from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog, load_catalog
from workplace_roleplay.domain.scenario.model import Category, Scenario
from workplace_roleplay.domain.scenario.roster import Rank
from workplace_roleplay.domain.scenario.simple_reply import main_counterpart
from workplace_roleplay.errors import InvalidInput

# The coaching rubric knows five ranks; the roster's others map to the nearest keigo expectation.
COACHING_RANK: dict[Rank, str] = {
    Rank.EXECUTIVE: "boss",
    Rank.BOSS: "boss",
    Rank.SENIOR: "senior",
    Rank.PEER: "peer",
    Rank.FRIEND: "peer",
    Rank.JUNIOR: "junior",
    Rank.CLIENT: "client",
    Rank.STAFF: "client",
}


@cache
def default_catalog() -> ScenarioCatalog:
    return load_catalog()


class ScenarioMode(ModeBase):
    """A catalog scenario: the learner in their role, the scenario's counterpart answering every turn."""

    mode = Mode.SCENARIO.value

    def __init__(self, catalog: ScenarioCatalog | None = None, repo: ConversationRepository | None = None) -> None:
        self.catalog = catalog or default_catalog()
        self.repo = repo  # reads the learner's lines for the mood event (none: no mood events)

    def settings(self, raw: Mapping[str, str | None]) -> dict[str, str]:
        scenario_id = raw.get("scenario_id") or self._default_id()
        if scenario_id not in {s.id for s in self.catalog.scenarios}:
            raise InvalidInput(f"unknown scenario_id: {scenario_id[:64]!r}")
        return {"scenario_id": scenario_id}

    def _default_id(self) -> str:
        return next(s.id for s in self.catalog.scenarios if s.category is Category.REGULAR)

    def scenario(self, conv: Conversation) -> Scenario:
        return self.catalog.get(conv.settings.get("scenario_id") or self._default_id())

    def cast(self, conv: Conversation) -> Cast:
        scenario = self.scenario(conv)
        lead = main_counterpart(scenario)
        order = [lead, *(c for c in scenario.counterparts if c != lead)]
        return cast_of(*(self._participant(cid) for cid in order))

    def _participant(self, character_id: str) -> Participant:
        character = self.catalog.roster.character(character_id)
        return Participant(
            key=character.id, name=character.name, part=Part.CHARACTER, rank=COACHING_RANK[character.rank]
        )

    def brief(self, conv: Conversation, speaker: Participant) -> str:
        return prompt.counterpart_brief(self.scenario(conv), self.catalog.roster, speaker.key)

    def opening_instruction(self, conv: Conversation, speaker: Participant) -> str:
        scenario = self.scenario(conv)
        return prompt.opening_instruction(scenario) or (
            f"場面: {scenario.opening.card}\nこの場面に合った、あなたの最初のひと言だけを返してください。"
        )

    def hints(self, conv: Conversation) -> Mapping[str, str]:
        return prompt.model_hints(self.scenario(conv), self.catalog.roster)

    async def timeline(self, conv: Conversation) -> list[mood.MoodPoint]:
        """The counterpart's mood after each of the learner's stored lines (recomputed: the rules are fixed)."""
        if self.repo is None:
            return []
        lines = [(m.id, m.text) for m in await self.repo.messages(conv) if m.role is Role.LEARNER and m.text]
        return mood.appraise(self.scenario(conv), self.cast(conv).lead.rank, lines)

    async def extra_events(self, conv: Conversation, done: TurnDone) -> Sequence[ModeEvent]:
        if self.repo is None:
            return ()
        points = await self.timeline(conv)
        point = next((p for p in points if p.message_id == done.learner_message_id), points[-1] if points else None)
        if point is None:
            return ()
        data = {**point.as_dict(), "speaker": self.cast(conv).lead.name, "notice": mood.NOTICE}
        return (ModeEvent("mood", data),)
