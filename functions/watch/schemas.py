"""Request and response bodies of the watch API (validated by Pydantic, documented in OpenAPI)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Situation = Literal["lunch", "break", "morning", "evening", "party"]
Topic = Literal["general", "hobby", "news", "food", "work"]
Role = Literal["taro", "hanako"]
Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class StartRequest(BaseModel):
    """Chat settings (situation, topic) or a catalog scenario; ``learner_role`` to play one character."""

    model_config = ConfigDict(extra="forbid")

    situation: Situation | None = None
    topic: Topic | None = None
    scenario_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    learner_role: Role | None = None


class ControlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["play", "pause", "resume", "continue", "speed", "end"]
    speed: float | None = Field(None, ge=0.25, le=4.0)


class JoinRequest(BaseModel):
    """The learner's line (「会話に参加する」); ``client_message_id`` makes a retry safe."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=20000)
    client_message_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class TakeOverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role = "hanako"
    at_line: int = Field(ge=1, le=10000, description="1-based: the learner speaks from this character line on.")


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: int = Field(ge=0, le=3)


class RunState(BaseModel):
    conversation_id: str
    state: Literal["playing", "paused", "quiz", "budget", "ended"]
    lines: int
    budget: int
    quiz_id: str | None = None
    take_id: str | None = Field(None, description="Open good and bad takes, until answered.")
    speed: float = 1.0
    learner_role: str | None = None
    ended_at: float | None = Field(None, description="When the run was ended (終了する); null until then.")


class QuizOut(BaseModel):
    """A quiz before it is answered: the question and the choices, never the correct one."""

    quiz_id: str
    question: str
    choices: list[str]


class GradedQuiz(QuizOut):
    answer: int | None
    correct: bool
    correct_index: int
    explanation: str


class TakesCounts(BaseModel):
    asked: int
    answered: int
    correct: int = Field(description="Answers that picked the skilled take.")


class Accuracy(BaseModel):
    asked: int
    total: int
    correct: int
    accuracy: float
    takes: TakesCounts


class QuizCounts(BaseModel):
    asked: int
    answered: int
    correct: int
    accuracy: float | None = Field(description="correct / answered; null when nothing was answered.")


class RunProgress(BaseModel):
    conversation_id: str
    title: str
    created_at: float
    state: str
    quizzes: QuizCounts
    takes: TakesCounts


class Progress(BaseModel):
    """The learner's watch quizzes and takes over their most recently updated runs (progress page)."""

    recent: int
    quizzes: QuizCounts
    takes: TakesCounts
    runs: list[RunProgress]


AspectCode = Literal["conclusion_first", "consideration", "specificity", "listening", "wording", "next_step"]


class TakeLine(BaseModel):
    speaker: str
    text: str


class Take(BaseModel):
    key: Literal["A", "B"]
    lines: list[TakeLine]


class Aspect(BaseModel):
    code: AspectCode
    label: str


class TakesOut(BaseModel):
    """Good and bad takes before they are answered: never which one is skilled, never the explanation."""

    take_id: str
    after_line: int
    speaker: str
    takes: list[Take]
    aspects: list[Aspect]


class TakesAnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skilled: Literal["A", "B"] = Field(description="The take the learner thinks is the skilled one.")
    aspects: list[AspectCode] = Field(default_factory=list, max_length=6, description="What the learner saw differ.")
    note: str | None = Field(None, max_length=200, description="Free text: what else the learner noticed.")


class TakesAnswerOut(BaseModel):
    skilled: str
    aspects: list[str]
    note: str


class Difference(BaseModel):
    aspect: str
    label: str
    clumsy: str = Field(description="A quote from the clumsy take.")
    skilled: str = Field(description="A quote from the skilled take.")
    explanation: str


class GradedTakes(TakesOut):
    answer: TakesAnswerOut | None
    skilled: Literal["A", "B"]
    correct: bool
    differences: list[Difference]
    matched: list[str]
    missed: list[str]
    summary: str


class MessageOut(BaseModel):
    id: str
    role: str
    speaker: str
    text: str
    status: str
    created_at: float
    model: str = ""
    simple_mode: bool = False


class RunItem(BaseModel):
    id: str
    title: str
    settings: dict[str, str]
    created_at: float
    updated_at: float
    parent_id: str = ""
    run: RunState


class RunPage(BaseModel):
    items: list[RunItem]
    limit: int
    offset: int
    next_offset: int | None


class RunDetail(BaseModel):
    run: RunItem
    messages: list[MessageOut]
    quizzes: list[dict[str, Any]]
    takes: list[dict[str, Any]] = Field(
        default_factory=list, description="Good and bad takes: public until answered, then graded (GradedTakes)."
    )
