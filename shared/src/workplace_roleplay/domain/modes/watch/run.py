"""A watch run over the conversation engine: one line per step (the characters alternate), the learner's
line when they join (both characters react), a line budget, and a quiz every few lines.

The run's state is ``conv.extra["watch"]`` in the store (no process memory), so any instance continues a run:
``next`` (whose line is due), ``lines`` (character lines spoken), ``budget`` (lines before it pauses and asks),
``state`` (playing / paused / quiz / budget / ended), ``quiz`` (the id of the open quiz), ``take`` (the id of
open good and bad takes), ``speed``, ``ended_at``, and the counters the progress page reads (``quizzes`` asked,
``quiz_answered``, ``quiz_correct``, ``takes`` asked, ``takes_answered``, ``takes_correct``). A step's turn id
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
from workplace_roleplay.domain.modes.watch.mode import WatchMode, next_index, pair
from workplace_roleplay.domain.modes.watch.quiz import QuizBook, accuracy
from workplace_roleplay.domain.modes.watch.takes import Moment, TakesAnswer, TakesBook
from workplace_roleplay.errors import InvalidInput, TooManyWatchRuns, WatchEnded, WatchPaused

STATES = ("playing", "paused", "quiz", "budget", "ended")
COUNTERS = ("quizzes", "quiz_answered", "quiz_correct", "takes", "takes_answered", "takes_correct")


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
    state.setdefault("take", "")
    state.setdefault("ended_at", None)
    for counter in COUNTERS:
        state.setdefault(counter, 0)
    return state


def ratio(correct: int, answered: int) -> float | None:
    return round(correct / answered, 3) if answered else None


def run_counts(conv: Conversation) -> dict[str, Any]:
    """The run's quiz and takes counts (kept on the run, so the progress page reads no quiz documents)."""
    s = run_state(conv)
    return {
        "quizzes": {
            "asked": s["quizzes"],
            "answered": s["quiz_answered"],
            "correct": s["quiz_correct"],
            "accuracy": ratio(s["quiz_correct"], s["quiz_answered"]),
        },
        "takes": {"asked": s["takes"], "answered": s["takes_answered"], "correct": s["takes_correct"]},
    }


def public_state(conv: Conversation) -> dict[str, Any]:
    s = run_state(conv)
    return {
        "conversation_id": conv.id,
        "state": s["state"],
        "lines": s["lines"],
        "budget": s["budget"],
        "quiz_id": s["quiz"] or None,
        "take_id": s["take"] or None,
        "speed": s["speed"],
        "ended_at": s["ended_at"],
        "learner_role": conv.settings.get("learner_role") or None,
    }


class WatchRuns:
    """Start, step, join, control and quiz watch runs of one learner."""

    def __init__(
        self,
        engine: ConversationService,
        quizzes: QuizBook,
        options: RunOptions | None = None,
        *,
        takes: TakesBook | None = None,
    ) -> None:
        if not isinstance(engine.mode, WatchMode):
            raise TypeError("WatchRuns needs the engine in watch mode")
        self.engine, self.mode, self.quizzes = engine, engine.mode, quizzes
        self.takes = takes or TakesBook(quizzes.store, quizzes.model, quizzes.clock, quizzes.sealer)
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
        """play / pause / resume / continue (extends the budget) / speed / end (終了する: final)."""
        conv = await self.engine.conversation(user_id, conversation_id)
        state = run_state(conv)
        if state["state"] == "ended" and action in ("play", "resume", "continue"):
            raise WatchEnded()
        if action == "end":
            if state["state"] != "ended":
                state["state"], state["ended_at"] = "ended", self.engine.ctx.clock.now()
        elif action == "pause":
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
        if state["state"] == "ended":
            raise WatchEnded()
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
        if state["state"] == "ended":
            raise WatchEnded()
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
        if state["state"] == "ended":
            pass  # ended while this line was spoken: the line is kept, the run stays ended
        elif not learner and every and state["lines"] % every == 0:
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
        if state["state"] == "ended":
            raise WatchEnded()
        public = await self._quiz(conv, state)
        await self._save(conv, state)
        return public

    async def answer(self, user_id: str, conversation_id: str, quiz_id: str, choice: int) -> dict[str, Any]:
        conv = await self.engine.conversation(user_id, conversation_id)
        graded = (await self.quizzes.answer(conv, quiz_id, choice)).graded()
        state = run_state(conv)
        state["quiz_answered"] += 1
        state["quiz_correct"] += 1 if graded["correct"] else 0
        if state["quiz"] == quiz_id:
            state["quiz"] = ""
            if state["state"] == "quiz":
                state["state"] = "budget" if state["lines"] >= state["budget"] else "paused"
        await self._save(conv, state)
        return graded

    async def ask_takes(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        """Good and bad takes of the next moment (a playing run pauses; an open one is returned again)."""
        conv = await self.engine.conversation(user_id, conversation_id)
        state = run_state(conv)
        if state["take"]:
            return (await self.takes.get(conv, state["take"])).public()
        if state["state"] == "ended":
            raise WatchEnded()
        speakers = [c for c in pair() if c.id in {p.key for p in self.mode.cast(conv).characters}] or list(pair())
        speaker = speakers[next_index(conv) % len(speakers)]
        other = next(c for c in pair() if c.id != speaker.id)
        lines = await self.engine.repo.messages(conv)
        brief = self.mode.brief(conv, next(p for p in self.mode.cast(conv).characters if p.key == speaker.id))
        moment = Moment(speaker=speaker.name, other=other.name, speaker_brief=brief, lines=lines)
        made = await self.takes.make(conv, moment, state["takes"] + 1)
        state["takes"] += 1
        state["take"] = made.id
        if state["state"] == "playing":
            state["state"] = "paused"
        await self._save(conv, state)
        return made.public()

    async def answer_takes(
        self, user_id: str, conversation_id: str, take_id: str, answer: TakesAnswer
    ) -> dict[str, Any]:
        conv = await self.engine.conversation(user_id, conversation_id)
        graded = (await self.takes.answer(conv, take_id, answer)).graded()
        state = run_state(conv)
        state["takes_answered"] += 1
        state["takes_correct"] += 1 if graded["correct"] else 0
        if state["take"] == take_id:
            state["take"] = ""
        await self._save(conv, state)
        return graded

    async def progress(self, user_id: str, recent: int) -> dict[str, Any]:
        """Quiz accuracy and takes over the learner's ``recent`` newest runs (one list read, no quiz documents)."""
        runs = await self.engine.repo.list_recent(user_id, limit=recent, mode=self.mode.mode)
        rows = []
        totals = dict.fromkeys(COUNTERS, 0)
        for conv in runs:
            state = run_state(conv)
            for counter in COUNTERS:
                totals[counter] += int(state[counter])
            if state["quizzes"] or state["takes"]:
                rows.append(
                    {
                        "conversation_id": conv.id,
                        "title": conv.title,
                        "created_at": conv.created_at,
                        "state": state["state"],
                        **run_counts(conv),
                    }
                )
        return {
            "recent": recent,
            "quizzes": {
                "asked": totals["quizzes"],
                "answered": totals["quiz_answered"],
                "correct": totals["quiz_correct"],
                "accuracy": ratio(totals["quiz_correct"], totals["quiz_answered"]),
            },
            "takes": {
                "asked": totals["takes"],
                "answered": totals["takes_answered"],
                "correct": totals["takes_correct"],
            },
            "runs": rows,
        }

    async def accuracy(self, user_id: str, conversation_id: str) -> dict[str, Any]:
        conv = await self.engine.conversation(user_id, conversation_id)
        return {**accuracy(await self.quizzes.all(conv)), "takes": run_counts(conv)["takes"]}

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
        await self.takes.delete_all(conv)
        await self.engine.delete(user_id, conversation_id)


def _as_learner(message: Message, played: str) -> Message:
    """A copied line; the played character's lines become the learner's (they now speak as that character)."""
    if played and message.speaker == played:
        return replace(message, role=Role.LEARNER, speaker="learner")
    return message
