"""Pause-and-predict quizzes of a watch run: generated from the actual dialogue (structured output), the correct
choice and the explanation kept server-side (sealed at rest) until the learner answers, then graded and stored.

In the simple-response mode the quiz is deterministic and still about the dialogue: who said a quoted line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from workplace_roleplay.domain.conversation.records import Conversation, Message, Role
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import InvalidInput, QuizAlreadyAnswered, QuizNotFound
from workplace_roleplay.ports import Clock, DocumentStore
from workplace_roleplay.ports.model import ChatMessage, GenerationMode, GenerationRequest, LanguageModel, ModelTask

QUIZ_SYSTEM = (
    "あなたは職場コミュニケーションの講師です。以下の会話を読んで、学習者向けの4択または3択クイズを1問作ってください。"
    "問いは「次にどう返すのがよいか」または「話し手の良かった点・改善点」を問うものにし、正解は会話の内容から"
    "一つに決まるようにしてください。explanation では会話の発言を「」で引用して理由を説明してください。"
)
Choice = Annotated[str, Field(min_length=1, max_length=120)]


class QuizDraft(BaseModel):
    """The structured output the model returns."""

    question: str = Field(min_length=1, max_length=200)
    choices: list[Choice] = Field(min_length=3, max_length=4)
    correct_index: int = Field(ge=0, le=3)
    explanation: str = Field(min_length=1, max_length=400)

    @model_validator(mode="after")
    def _in_range(self) -> QuizDraft:
        if self.correct_index >= len(self.choices):
            raise ValueError("correct_index out of range")
        return self


@dataclass(frozen=True, slots=True)
class Quiz:
    id: str
    question: str
    choices: list[str]
    correct_index: int
    explanation: str
    after_line: int
    answer: int | None = None

    def public(self) -> dict[str, Any]:
        """What the learner may see before answering: never the correct choice or the explanation."""
        return {"quiz_id": self.id, "question": self.question, "choices": list(self.choices)}

    def graded(self) -> dict[str, Any]:
        return {
            **self.public(),
            "answer": self.answer,
            "correct": self.answer == self.correct_index,
            "correct_index": self.correct_index,
            "explanation": self.explanation,
        }


def _transcript(lines: Sequence[Message]) -> str:
    return "\n".join(f"{'学習者' if m.role is Role.LEARNER else m.speaker}: {m.text}" for m in lines if m.text)


def simple_quiz(lines: Sequence[Message], names: Sequence[str], number: int) -> QuizDraft:
    """A deterministic quiz on the dialogue: who said the quoted line (the correct choice rotates)."""
    spoken = [m for m in lines if m.role is Role.COUNTERPART and m.text] or list(lines)
    line = spoken[-1 - (number % min(2, len(spoken)))] if spoken else None
    quote = line.text if line else ""
    who = line.speaker if line and line.role is Role.COUNTERPART else "学習者"
    choices = [n for n in names if n != who] + ["学習者"]
    correct = number % (len(choices) + 1)
    choices.insert(correct, who)
    choices = list(dict.fromkeys(choices))[:4]
    return QuizDraft(
        question=f"「{quote[:60]}」と言ったのは誰でしょう？",
        choices=choices,
        correct_index=choices.index(who),
        explanation=f"{who}の発言です:「{quote[:120]}」。誰が何を言ったかを追うと、会話の流れがつかめます。",
    )


class QuizBook:
    """Makes, stores and grades the quizzes of watch conversations (``{conversation}/quizzes/{id}``)."""

    def __init__(self, store: DocumentStore, model: LanguageModel, clock: Clock, sealer: TextSealer) -> None:
        self.store, self.model, self.clock, self.sealer = store, model, clock, sealer

    async def make(self, conv: Conversation, lines: Sequence[Message], names: Sequence[str], number: int) -> Quiz:
        request = GenerationRequest(
            task=ModelTask.QUIZ,
            system=QUIZ_SYSTEM,
            messages=[ChatMessage(role="user", text=_transcript(lines[-16:]))],
            hints={"mode": "watch"},
            user_id=conv.user_id,
        )
        result = await self.model.generate_structured(request, QuizDraft)
        draft = result.value
        if result.completion.mode is GenerationMode.SIMPLE:
            draft = simple_quiz(lines, names, number)
        quiz = Quiz(
            id=f"q{number}",
            question=draft.question,
            choices=list(draft.choices),
            correct_index=draft.correct_index,
            explanation=draft.explanation,
            after_line=len(lines),
        )
        await self._save(conv, quiz)
        return quiz

    def _path(self, conv: Conversation, quiz_id: str) -> str:
        return f"{conv.path}/quizzes/{quiz_id}"

    async def _save(self, conv: Conversation, quiz: Quiz) -> None:
        path = self._path(conv, quiz.id)
        body = json.dumps(
            {
                "question": quiz.question,
                "choices": quiz.choices,
                "correct_index": quiz.correct_index,
                "explanation": quiz.explanation,
            },
            ensure_ascii=False,
        )
        doc = {
            "quiz": self.sealer.seal(body, context=f"{path}#quiz"),
            "after_line": quiz.after_line,
            "answer": quiz.answer,
            "created_at": self.clock.now(),
        }
        await self.store.set(path, doc)

    async def get(self, conv: Conversation, quiz_id: str) -> Quiz:
        path = self._path(conv, quiz_id)
        doc = await self.store.get(path) if quiz_id.isascii() and quiz_id[1:].isdigit() else None
        if doc is None:
            raise QuizNotFound()
        try:
            body = json.loads(self.sealer.open(doc["quiz"], context=f"{path}#quiz"))
            answer = doc.get("answer")
            return Quiz(
                id=quiz_id,
                after_line=int(doc.get("after_line", 0)),
                answer=answer if isinstance(answer, int) else None,
                **body,
            )
        except (KeyError, ValueError, TypeError, ValidationError) as exc:
            raise QuizNotFound() from exc

    async def answer(self, conv: Conversation, quiz_id: str, choice: int) -> Quiz:
        quiz = await self.get(conv, quiz_id)
        if quiz.answer is not None:
            raise QuizAlreadyAnswered()
        if not 0 <= choice < len(quiz.choices):
            raise InvalidInput("answer out of range")
        await self.store.update(self._path(conv, quiz_id), {"answer": choice, "answered_at": self.clock.now()})
        return _with_answer(quiz, choice)

    async def all(self, conv: Conversation) -> list[Quiz]:
        rows = await self.store.query(f"{conv.path}/quizzes", order_by="created_at")
        return [await self.get(conv, row.id) for row in rows]

    async def delete_all(self, conv: Conversation) -> None:
        for row in await self.store.query(f"{conv.path}/quizzes"):
            await self.store.delete(f"{conv.path}/quizzes/{row.id}")


def _with_answer(quiz: Quiz, choice: int) -> Quiz:
    return Quiz(quiz.id, quiz.question, quiz.choices, quiz.correct_index, quiz.explanation, quiz.after_line, choice)


def accuracy(quizzes: Sequence[Quiz]) -> dict[str, Any]:
    answered = [q for q in quizzes if q.answer is not None]
    correct = sum(1 for q in answered if q.answer == q.correct_index)
    return {
        "total": len(answered),
        "correct": correct,
        "accuracy": correct / len(answered) if answered else 0.0,
        "asked": len(quizzes),
    }
