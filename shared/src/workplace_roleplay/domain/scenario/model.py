"""The scenario catalog's data model: what one scenario is, validated by pydantic at startup.

Scenarios are data (``data/scenarios/*.yaml``, authoring guide: docs/scenarios.md). A scenario names its
counterparts by roster id (``roster.py``); the catalog loader checks those ids exist.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{2,47}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
LEGACY_ID = r"^(scenario\d+|[a-z]+(?:_[a-z]+)*_\d{2})$"


class Category(StrEnum):
    REGULAR = "regular"
    GRAY_ZONE = "gray_zone"
    HARASSMENT_PREVENTION = "harassment_prevention"


class Difficulty(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


CATEGORY_LABELS = {
    Category.REGULAR: "職場の基本",
    Category.GRAY_ZONE: "グレーゾーン",
    Category.HARASSMENT_PREVENTION: "ハラスメント防止",
}
DIFFICULTY_LABELS = {
    Difficulty.BEGINNER: "初級",
    Difficulty.INTERMEDIATE: "中級",
    Difficulty.ADVANCED: "上級",
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LearnerRole(Frozen):
    """Who the learner plays and what they try to achieve."""

    role: Line
    goal: Text


class Opening(Frozen):
    """How the scenario starts: the counterpart's first line, or a situation card when the learner speaks first."""

    speaker: Id | None = None
    line: Line | None = None
    card: Text | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Opening:
        counterpart_first = self.speaker is not None and self.line is not None
        if counterpart_first == (self.card is not None) or (self.speaker is None) != (self.line is None):
            raise ValueError("an opening is either speaker + line (counterpart first) or card (learner first)")
        return self

    @property
    def learner_first(self) -> bool:
        return self.card is not None


class Check(Frozen):
    """A yes/no report check specific to this scenario (the grader quotes the learner's line as evidence)."""

    id: Id
    question: Line


class Reactions(Frozen):
    """Lines the counterpart uses in simple-response mode, by what the learner's last line does.

    Missing groups fall back to the counterpart's rank defaults (``simple_reply.py``).
    """

    apology: tuple[Line, ...] = ()
    thanks: tuple[Line, ...] = ()
    refusal: tuple[Line, ...] = ()
    question: tuple[Line, ...] = ()
    report: tuple[Line, ...] = ()


class Scenario(Frozen):
    """One practice scenario."""

    id: Id
    legacy_ids: tuple[Annotated[str, StringConstraints(pattern=LEGACY_ID)], ...] = ()
    title: Line
    summary: Text
    category: Category
    difficulty: Difficulty
    tags: tuple[Tag, ...] = Field(min_length=1, max_length=6)
    minutes: int = Field(ge=3, le=30)
    learner: LearnerRole
    counterparts: tuple[Id, ...] = Field(min_length=1, max_length=3)
    reverse_role: bool = False  # the learner is the manager
    situation: Text
    opening: Opening
    follow_ups: tuple[Line, ...] = Field(min_length=2, max_length=6)
    reactions: Reactions = Reactions()
    learning_points: tuple[Line, ...] = Field(min_length=2, max_length=6)
    checks: tuple[Check, ...] = Field(min_length=2, max_length=8)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.opening.speaker is not None and self.opening.speaker not in self.counterparts:
            raise ValueError(f"opening speaker {self.opening.speaker!r} is not one of the counterparts")
        ids = [c.id for c in self.checks]
        if len(ids) != len(set(ids)):
            raise ValueError("check ids must be unique within a scenario")
        return self

    @property
    def requires_consent(self) -> bool:
        """Harassment-prevention and gray-zone scenarios need the learner's recorded consent (ADR 0015)."""
        return self.category in CONSENT_CATEGORIES

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def difficulty_label(self) -> str:
        return DIFFICULTY_LABELS[self.difficulty]


CONSENT_CATEGORIES = frozenset({Category.GRAY_ZONE, Category.HARASSMENT_PREVENTION})


class ScenarioFile(Frozen):
    """One YAML file of the catalog: a list of scenarios."""

    scenarios: tuple[Scenario, ...] = Field(min_length=1)
