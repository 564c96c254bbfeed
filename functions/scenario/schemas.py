"""Request and response bodies of the scenario API (OpenAPI documents them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workplace_roleplay.domain.scenario.listing import ListedScenario, ScenarioDetail
from workplace_roleplay.domain.scenario.roster import Character


class ScenarioItem(BaseModel):
    """One list entry. A locked entry (consent not given) carries id, title and category only."""

    id: str
    title: str
    category: str
    requires_consent: bool
    locked: bool
    status: str = Field(description="locked, not_started, in_progress or completed")
    difficulty: str | None = None
    tags: list[str] | None = None
    summary: str | None = None
    minutes: int | None = None

    @classmethod
    def of(cls, item: ListedScenario) -> ScenarioItem:
        s = item.scenario
        return cls(
            id=item.id,
            title=item.title,
            category=item.category,
            requires_consent=item.requires_consent,
            locked=item.locked,
            status=item.status.value,
            difficulty=s.difficulty.value if s else None,
            tags=list(s.tags) if s else None,
            summary=s.summary if s else None,
            minutes=s.minutes if s else None,
        )


class ScenarioPage(BaseModel):
    items: list[ScenarioItem]
    total: int
    limit: int
    offset: int
    next_offset: int | None
    consented: bool = Field(description="the learner's consent to sensitive content is recorded and current")
    catalog_version: str


class CharacterOut(BaseModel):
    id: str
    name: str
    full_name: str
    reading: str
    position: str
    personality: str
    speaking_style: str

    @classmethod
    def of(cls, c: Character) -> CharacterOut:
        return cls(
            id=c.id,
            name=c.name,
            full_name=c.full_name,
            reading=c.reading,
            position=c.position,
            personality=c.personality,
            speaking_style=c.speaking_style,
        )


class CheckOut(BaseModel):
    id: str
    question: str


class ScenarioDetailOut(BaseModel):
    id: str
    title: str
    summary: str
    category: str
    difficulty: str
    tags: list[str]
    minutes: int
    requires_consent: bool
    status: str
    learner_role: str
    learner_goal: str
    reverse_role: bool
    situation: str
    counterparts: list[CharacterOut]
    opening_speaker: str | None = Field(description="the counterpart who speaks first; null: the learner starts")
    opening_line: str | None
    situation_card: str | None = Field(description="shown instead of an opening line when the learner starts")
    learning_points: list[str]
    checks: list[CheckOut]
    legacy_ids: list[str]

    @classmethod
    def of(cls, d: ScenarioDetail) -> ScenarioDetailOut:
        s = d.scenario
        return cls(
            id=s.id,
            title=s.title,
            summary=s.summary,
            category=s.category.value,
            difficulty=s.difficulty.value,
            tags=list(s.tags),
            minutes=s.minutes,
            requires_consent=s.requires_consent,
            status=d.status.value,
            learner_role=s.learner.role,
            learner_goal=s.learner.goal,
            reverse_role=s.reverse_role,
            situation=s.situation,
            counterparts=[CharacterOut.of(c) for c in d.counterparts],
            opening_speaker=s.opening.speaker,
            opening_line=s.opening.line,
            situation_card=s.opening.card,
            learning_points=list(s.learning_points),
            checks=[CheckOut(id=c.id, question=c.question) for c in s.checks],
            legacy_ids=list(s.legacy_ids),
        )


class ConsentIn(BaseModel):
    version: str = Field(min_length=1, max_length=32, description="the consent text version the learner read")


class ConsentOut(BaseModel):
    consented: bool
    current_version: str
    version: str | None = None
    given_at: float | None = None
    revoked_at: float | None = None
    consent_page: str
