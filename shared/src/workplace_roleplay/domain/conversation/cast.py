"""Who takes part in a conversation: the learner, one or more AI characters, an off-stage coach.

Every stored message names its speaker (a participant's ``name``); the request builder renders one
character as "this speaker" and everyone else as "the others" (docs/architecture.md, "One turn").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LEARNER_SPEAKER = "learner"


class Part(StrEnum):
    LEARNER = "learner"
    CHARACTER = "character"  # speaks in the dialogue; the model plays it
    COACH = "coach"  # narrator, coach or grader: never speaks in the dialogue


@dataclass(frozen=True, slots=True)
class Participant:
    """One member of a cast. ``name`` is what stored messages carry as their speaker."""

    key: str
    name: str
    part: Part
    rank: str = "peer"  # how a character relates to the learner (peer/senior/junior/boss/client)


LEARNER = Participant(key=LEARNER_SPEAKER, name=LEARNER_SPEAKER, part=Part.LEARNER)


@dataclass(frozen=True, slots=True)
class Cast:
    """The participants of one conversation, in speaking order."""

    participants: tuple[Participant, ...]

    @property
    def characters(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.part is Part.CHARACTER)

    @property
    def lead(self) -> Participant:
        """The first character: the learner's counterpart in one-to-one modes."""
        return self.characters[0]

    def by_name(self, name: str) -> Participant | None:
        return next((p for p in self.participants if p.name == name), None)


def cast_of(*characters: Participant, coach: Participant | None = None) -> Cast:
    """A cast of the learner, these characters and an optional off-stage coach."""
    extra = (coach,) if coach is not None else ()
    return Cast((LEARNER, *characters, *extra))
