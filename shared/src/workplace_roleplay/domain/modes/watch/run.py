"""A watch run over the conversation engine: one line per step (the characters alternate), the learner's
line when they join (both characters react), a line budget, and a quiz every few lines.

The run's state is ``conv.extra["watch"]`` in the store (no process memory), so any instance continues a run:
``next`` (whose line is due), ``lines`` (character lines spoken), ``budget`` (lines before it pauses and asks),
``state`` (playing / paused / quiz / budget), ``quiz`` (the id of the open quiz) and ``speed``. A step's turn id
derives from the line number, so two instances stepping the same run at once overwrite one line instead of
storing it twice (docs/architecture.md, Modes; ADR 0031).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from workplace_roleplay.domain.conversation.events import ModeEvent, TurnDone, TurnEvent
from workplace_roleplay.domain.conversation.records import Conversation, Message, Role
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.domain.modes.watch.mode import WatchMode
from workplace_roleplay.domain.modes.watch.quiz import QuizBook, accuracy
from workplace_roleplay.errors import InvalidInput, TooManyWatchRuns, WatchPaused

STATES = ("playing", "paused", "quiz", "budget")


@dataclass(frozen=True, slots=True)
class RunOptions:
    line_budget: int = 12
    quiz_every: int = 4  # 0: no automatic quizzes
    max_playing: int = 3  # runs of one learner playing at once


def run_state(conv: Conversation) -> dict[str, Any]:
    raw = conv.extra.get("watch")
    state: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
    state.setdefault("next", 0)
    state.setdefault("lines", 0)
    state.setdefault("budget", 0)
    state.setdefault("state", "playing")
    state.setdefault("quiz", "")
    state.setdefault("speed", 1.0)
    state.setdefault("quizzes", 0)
    return state


def public_state(conv: Conversation) -> dict[str, Any]:
    s = run_state(conv)
    return {
        "conversation_id": conv.id,
        "state": s["state"],
        "lines": s["lines"],
        "budget": s["budget"],
        "quiz_id": s["quiz"] or None,
        "speed": s["speed"],
        "learner_role": conv.settings.get("learner_role") or None,
    }


class WatchRuns:
    """Start, step, join, control and quiz watch runs of one learner."""

    def __init__(self, engine: ConversationService, quizzes: QuizBook, options: RunOptions | None = None) -> None:
        if not isinstance(engine.mode, WatchMode):
            raise TypeError("WatchRuns needs the engine in watch mode")
        self.engine, self.mode, self.quizzes = engine, engine.mode, quizzes
        self.options = options or RunOptions()

    async def start(self, user_id: str, settings: Mapping[str, str | None]) -> Conversation:
        conv = await self.engine.start(user_id, settings=settings, coaching=False)
        # A new run waits for play (or single steps): opening its socket does not start it.
        state = {**run_state(conv), "budget": self.options.line_budget, "state": "paused"}
        await self.engine.repo.update(conv, extra={**conv.extra, "watch": state})
        return conv

    async def _save(self, conv: Conversation, state: Mapping[str, Any]) -> None:
        """Write only the fields this call changed (dotted keys), so a pause written by another request while
        a line was being spoken is not overwritten by the line's bookkeeping."""
        before = run_state(conv)
        changed = {f"extra.watch.{k}": v for k, v in state.items() if before.get(k) != v}
        if changed:
            now = self.engine.ctx.clock.now()
            await self.engine.ctx.store.update(conv.path, {**changed, "updated_at": now})
            conv.updated_at = now
        conv.extra = {**conv.extra, "watch": {**before, **state}}

    async def control(
        self, user_id: str, conversation_id: str, action: str, *, speed: float | None = None
    ) -> Conversation:
        """play / pause / resume / continue (extends the budget) / speed."""
        conv = await self.engine.conversation(user_id, conversation_id)
        state = run_state(conv)
        if action == "pause":
            state["state"] = "paused" if state["state"] == "playing" else state["state"]
        elif action in ("play", "resume"):
            if state["state"] == "quiz":
                raise WatchPaused(extra={"reason": "quiz", "quiz_id": state["quiz"]})
            if state["state"] == "budget":
                raise WatchPaused(extra={"reason": "budget"})
            await self._check_playing(conv)
            state["state"] = "playing"
        elif action == "continue":
            if state["state"] == "quiz":
                raise WatchPaused(extra={"reason": "quiz", "quiz_id": state["quiz"]})
            await self._check_playing(conv)
            state["budget"] = state["lines"] + self.options.line_budget
            state["state"] = "playing"
        elif action == "speed":
            if speed is None or not 0.25 <= speed <= 4.0:
                raise InvalidInput("speed must be between 0.25 and 4")
            state["speed"] = speed
        else:
            raise InvalidInput(f"unknown action: {action!r}")
        await self._save(conv, state)
        return conv

    async def _check_playing(self, conv: Conversation) -> None:
        """Refuse to play one more run than ``max_playing`` (among the learner's recent runs)."""
        recent = await self.engine.repo.list_recent(conv.user_id, limit=50, mode=self.mode.mode)
        playing = [c for c in recent if c.id != conv.id and run_state(c)["state"] == "playing"]
        if len(playing) >= self.options.max_playing:
            raise TooManyWatchRuns(extra={"max_playing": self.options.max_playing})

    def _check_can_speak(self, state: Mapping[str, Any]) -> None:
        if state["state"] == "quiz":
            raise WatchPaused(extra={"reason": "quiz", "quiz_id": state["quiz"]})
        if state["lines"] >= state["budget"]:
            raise WatchPaused(extra={"reason": "budget"})

    async def step(self, user_id: str, conversation_id: str) -> tuple[Conversation, AsyncGenerator[TurnEvent, None]]:
        """The next character's line (an engine turn without a learner line)."""
        conv = await self.engine.conversation(user_id, conversation_id)
        state = run_state(conv)
        self._check_can_speak(state)
        events = self.engine.turn(conv, text=None, client_message_id=f"watch-line-{state['lines']}")
        return conv, self._follow(conv, events, learner=False)

    async def join(
        self, user_id: str, conversation_id: str, text: str, client_message_id: str
    ) -> tuple[Conversation, AsyncGenerator[TurnEvent, None]]:
        """The learner's line; every character reacts to it (「会話に参加する」)."""
        self.engine.check_line(text, conversation_id=conversation_id, client_message_id=client_message_id)
        conv = await self.engine.conversation(user_id, conversation_id)
        state = run_state(conv)
        if state["state"] == "quiz":
            raise WatchPaused(extra={"reason": "quiz", "quiz_id": state["quiz"]})
        events = self.engine.turn(conv, text=text, client_message_id=client_message_id)
        return conv, self._follow(conv, events, learner=True)

    async def _follow(
        self, conv: Conversation, events: AsyncGenerator[TurnEvent, None], *, learner: bool
    ) -> AsyncGenerator[TurnEvent, None]:
        async for event in events:
            if isinstance(event, TurnDone) and not event.replayed:
                for extra in await self._after_turn(conv, learner=learner):
                    yield extra
            yield event

    async def _after_turn(self, conv: Conversation, *, learner: bool) -> list[ModeEvent]:
        fresh = await self.engine.conversation(conv.user_id, conv.id)
        state = run_state(fresh)
        speakers = len(self.mode.cast(fresh).characters)
        spoken = speakers if learner else 1
        state["lines"] += spoken
        if not learner:
            state["next"] = (state["next"] + 1) % speakers
        out: list[ModeEvent] = []
        every = self.options.quiz_every
        if not learner and every and state["lines"] % every == 0:
            quiz = await self._quiz(fresh, state)
            out.append(ModeEvent("quiz", quiz))
        elif state["lines"] >= state["budget"]:
            state["state"] = "budget"
        await self._save(fresh, state)
        conv.extra = fresh.extra
        out.append(ModeEvent("state", public_state(fresh)))
        return out

    async def _quiz(self, conv: Conversation, state: dict[str, Any]) -> dict[str, Any]:
        lines = await self.engine.repo.messages(conv)
        names = [c.name for c in self.mode.cast(conv).characters]
        state["quizzes"] += 1
        quiz = await self.quizzes.make(conv, lines, names, state["quizzes"])
        state["state"], state["quiz"] = "quiz", quiz.id
        return quiz.public()

    async def ask_quiz(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        """A quiz on demand: the run pauses until it is answered."""
        conv = await self.engine.conversation(user_id, conversation_id)
        state = run_state(conv)
        if state["state"] == "quiz":
            return (await self.quizzes.get(conv, state["quiz"])).public()
        public = await self._quiz(conv, state)
        await self._save(conv, state)
        return public

    async def answer(self, user_id: str, conversation_id: str, quiz_id: str, choice: int) -> dict[str, Any]:
        conv = await self.engine.conversation(user_id, conversation_id)
        graded = (await self.quizzes.answer(conv, quiz_id, choice)).graded()
        state = run_state(conv)
        if state["quiz"] == quiz_id:
            state["quiz"] = ""
            state["state"] = "budget" if state["lines"] >= state["budget"] else "paused"
            await self._save(conv, state)
        return graded

    async def accuracy(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        conv = await self.engine.conversation(user_id, conversation_id)
        return accuracy(await self.quizzes.all(conv))

    async def take_over(self, user_id: str, conversation_id: str, *, role: str, at_line: int) -> Conversation:
        """A new run continuing from before character line ``at_line`` (1-based) where the learner plays ``role``."""
        conv = await self.engine.conversation(user_id, conversation_id)
        settings = {**conv.settings, "learner_role": role}
        validated = self.mode.settings(settings)
        lines = await self.engine.repo.messages(conv)
        if not 1 <= at_line <= len(lines) + 1:
            raise InvalidInput("at_line is out of range")
        fork = await self.engine.repo.create(
            user_id, mode=self.mode.mode, settings=validated, coaching=False, parent=conv, at_turn=at_line
        )
        played = self.mode.played_character(fork)
        for message in lines[: at_line - 1]:
            await self.engine.repo.save(fork, _as_learner(message, played.name if played else ""))
        state = {**run_state(fork), "budget": self.options.line_budget, "lines": at_line - 1, "state": "paused"}
        await self.engine.repo.update(fork, extra={**fork.extra, "watch": state})
        return fork

    async def delete(self, user_id: str, conversation_id: str) -> None:
        conv = await self.engine.conversation(user_id, conversation_id)
        await self.quizzes.delete_all(conv)
        await self.engine.delete(user_id, conversation_id)


def _as_learner(message: Message, played: str) -> Message:
    """A copied line; the played character's lines become the learner's (they now speak as that character)."""
    if played and message.speaker == played:
        return replace(message, role=Role.LEARNER, speaker="learner")
    return message
