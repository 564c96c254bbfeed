"""Live watch runs: one numbered event log per run in Redis, pub/sub pokes, and a driver lease, so the
WebSocket and the SSE fallback of any instance show the same events and resume after the last event id
(docs/watch-protocol.md; ADR 0031).

- ``RunLog``: ``watch_log:{cid}``, a Redis list whose first item names the owner; event n is item n, sealed.
  Its number is the list length after RPUSH, so two instances never hand out the same id.
- ``LiveRuns.follow``: subscribe to ``watch:{cid}``, then read the log after the client's last id; every poke
  (or a one-second poll when pub/sub is down) reads again. Nothing is kept in the process.
- The driver (play) holds ``watch_lease:{cid}`` while it speaks; it renews the lease between lines, stops when
  the run is no longer ``playing``, and a client that connects to a run left ``playing`` by a dead instance
  starts a new driver once the lease has expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.events import TurnEvent
from workplace_roleplay.domain.model_budget import DailyModelBudget
from workplace_roleplay.domain.modes.watch.run import WatchRuns, public_state
from workplace_roleplay.domain.modes.watch.takes import takes_answer
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import AppError, EncryptionError, InvalidInput, WatchBusy
from workplace_roleplay.ports import Cache
from workplace_roleplay.ports.cache_keys import watch_channel, watch_lease_key, watch_log_key
from workplace_roleplay.ports.pubsub import PubSub
from workplace_roleplay.web.sse import SseEvent
from workplace_roleplay.web.turn_task import event_payload

log = logging.getLogger(__name__)
MAX_LOG_EVENTS = 50_000
COMMANDS = frozenset(
    {
        "play",
        "pause",
        "resume",
        "step",
        "speed",
        "join",
        "leave",
        "answer",
        "quiz",
        "continue",
        "takes",
        "takes_answer",
        "end",
    }
)


@dataclass(frozen=True, slots=True)
class LiveOptions:
    line_pause_s: float = 1.5  # silence between two lines at speed 1
    log_ttl_s: int = 3600
    lease_ttl_s: int = 30


class RunLog:
    """The numbered, sealed event log of one watch run."""

    def __init__(self, cache: Cache, conversation_id: str, *, sealer: TextSealer, ttl_s: int) -> None:
        self.cache, self.sealer, self.ttl_s = cache, sealer, ttl_s
        self.key = watch_log_key(conversation_id)
        self._owner = ""  # the owner once checked against the log's header

    def _context(self, owner: str) -> str:
        return f"{self.key}#{owner}"

    async def ensure(self, owner: str) -> None:
        if not await self.cache.read_list(self.key, 0):
            await self.cache.append(self.key, json.dumps({"owner": owner}).encode(), ttl=self.ttl_s)

    async def record(self, owner: str, name: str, data: Mapping[str, Any]) -> int:
        plain = json.dumps({"event": name, "data": dict(data)}, ensure_ascii=False, separators=(",", ":"))
        sealed = json.dumps(self.sealer.seal(plain, context=self._context(owner))).encode()
        length = await self.cache.append(self.key, sealed, ttl=self.ttl_s, max_items=MAX_LOG_EVENTS)
        return (length or 1) - 1

    async def read(self, owner: str, after: int) -> list[SseEvent]:
        """Events numbered above ``after`` (nothing for a foreign or missing log)."""
        if self._owner != owner:
            header = await self.cache.read_list(self.key, 0)
            if not header or json.loads(header[0]).get("owner") != owner:
                return []
            self._owner = owner
        items = await self.cache.read_list(self.key, after + 1)
        events = []
        for seq, raw in enumerate(items, start=after + 1):
            try:
                opened = json.loads(self.sealer.open(json.loads(raw), context=self._context(owner)))
            except (EncryptionError, ValueError, KeyError, TypeError):
                log.warning("watch log entry unreadable", extra={"seq": seq})
                continue
            events.append(SseEvent(str(opened["event"]), dict(opened["data"]), str(seq)))
        return events


class LiveRuns:
    """Commands and event fan-out of live watch runs, over the store, Redis and pub/sub only."""

    def __init__(
        self,
        runs: WatchRuns,
        *,
        cache: Cache,
        pubsub: PubSub,
        sealer: TextSealer,
        background: BackgroundWork,
        options: LiveOptions | None = None,
        budget: DailyModelBudget | None = None,
    ) -> None:
        self.runs, self.cache, self.pubsub, self.sealer = runs, cache, pubsub, sealer
        self.background = background
        self.budget = budget
        self.options = options or LiveOptions()

    def log(self, conversation_id: str) -> RunLog:
        return RunLog(self.cache, conversation_id, sealer=self.sealer, ttl_s=self.options.log_ttl_s)

    async def emit(self, owner: str, conversation_id: str, name: str, data: Mapping[str, Any]) -> None:
        await self.log(conversation_id).record(owner, name, data)
        await self.pubsub.publish(watch_channel(conversation_id), b"")

    async def open(self, owner: str, conversation_id: str) -> None:
        """Check ownership (ConversationNotFound), start the log, and resume a run left playing."""
        conv = await self.runs.engine.conversation(owner, conversation_id)
        await self.log(conversation_id).ensure(owner)
        if public_state(conv)["state"] == "playing":
            await self._ensure_driver(owner, conversation_id)

    async def follow(
        self, owner: str, conversation_id: str, after: int, *, alive: Callable[[], Awaitable[bool]]
    ) -> AsyncIterator[SseEvent]:
        """Every event after ``after``, live, while ``alive()`` (checked at least every half second).

        The caller stops it through ``alive`` rather than by cancelling it, so the subscription is closed
        in order (cancelling a pending pub/sub read can leave the connection's close waiting).
        """
        run_log = self.log(conversation_id)
        async with self.pubsub.subscribe(watch_channel(conversation_id)) as sub:
            while await alive():
                for event in await run_log.read(owner, after):
                    after = int(event.id)
                    yield event
                await sub.next(timeout_s=0.5)

    async def command(self, owner: str, conversation_id: str, message: Mapping[str, Any]) -> None:
        """One control message (the same JSON over the WebSocket and the SSE fallback's POST)."""
        kind = message.get("type")
        if kind not in COMMANDS:
            raise InvalidInput(f"unknown command type: {kind!r}")
        await self.log(conversation_id).ensure(owner)  # a command may come before any reader opened the log
        if kind in ("play", "resume", "leave", "continue"):
            conv = await self.runs.control(owner, conversation_id, "continue" if kind == "continue" else "play")
            await self.emit(owner, conversation_id, "state", public_state(conv))
            await self._ensure_driver(owner, conversation_id)
        elif kind == "pause":
            conv = await self.runs.control(owner, conversation_id, "pause")
            await self.emit(owner, conversation_id, "state", public_state(conv))
        elif kind == "speed":
            speed = message.get("speed")
            if not isinstance(speed, int | float) or isinstance(speed, bool):
                raise InvalidInput("speed must be a number")
            conv = await self.runs.control(owner, conversation_id, "speed", speed=float(speed))
            await self.emit(owner, conversation_id, "state", public_state(conv))
        elif kind == "step":
            self.background.spawn(self._exclusive(owner, conversation_id, self._step), name="watch_step")
        elif kind == "join":
            text, cmid = message.get("text"), message.get("client_message_id")
            if not isinstance(text, str) or not isinstance(cmid, str):
                raise InvalidInput("join needs text and client_message_id")
            conv = await self.runs.control(owner, conversation_id, "pause")
            await self.emit(owner, conversation_id, "state", public_state(conv))
            self.runs.engine.check_line(text, conversation_id=conversation_id, client_message_id=cmid)

            async def join(o: str, c: str) -> None:
                _, events = await self.runs.join(o, c, text, cmid)
                await self._pump(o, c, events)

            self.background.spawn(self._exclusive(owner, conversation_id, join), name="watch_join")
        elif kind == "end":
            conv = await self.runs.control(owner, conversation_id, "end")
            await self.emit(owner, conversation_id, "state", public_state(conv))
        elif kind == "takes":
            await self.emit(owner, conversation_id, "takes", await self.runs.ask_takes(owner, conversation_id))
            conv = await self.runs.engine.conversation(owner, conversation_id)
            await self.emit(owner, conversation_id, "state", public_state(conv))
        elif kind == "takes_answer":
            take_id = message.get("take_id")
            if not isinstance(take_id, str):
                raise InvalidInput("takes_answer needs take_id")
            answer = takes_answer(message.get("skilled"), message.get("aspects", []), message.get("note"))
            graded = await self.runs.answer_takes(owner, conversation_id, take_id, answer)
            await self.emit(owner, conversation_id, "takes_result", graded)
            conv = await self.runs.engine.conversation(owner, conversation_id)
            await self.emit(owner, conversation_id, "state", public_state(conv))
        elif kind == "answer":
            quiz_id, choice = message.get("quiz_id"), message.get("answer")
            if not isinstance(quiz_id, str) or not isinstance(choice, int) or isinstance(choice, bool):
                raise InvalidInput("answer needs quiz_id and answer")
            graded = await self.runs.answer(owner, conversation_id, quiz_id, choice)
            await self.emit(owner, conversation_id, "quiz_result", graded)
            conv = await self.runs.engine.conversation(owner, conversation_id)
            await self.emit(owner, conversation_id, "state", public_state(conv))
        else:  # quiz on demand
            await self.emit(owner, conversation_id, "quiz", await self.runs.ask_quiz(owner, conversation_id))
            conv = await self.runs.engine.conversation(owner, conversation_id)
            await self.emit(owner, conversation_id, "state", public_state(conv))

    async def _pump(self, owner: str, conversation_id: str, events: AsyncGenerator[TurnEvent, None]) -> None:
        async for event in events:
            name, data = event_payload(event)
            await self.emit(owner, conversation_id, name, data)

    async def _step(self, owner: str, conversation_id: str) -> None:
        _, events = await self.runs.step(owner, conversation_id)
        await self._pump(owner, conversation_id, events)

    async def _lease(self, conversation_id: str) -> bool:
        """Take the run's lease if nobody holds it (RPUSH answers 1 to exactly one taker)."""
        key = watch_lease_key(conversation_id)
        if await self.cache.read_list(key, 0):
            return False
        held = await self.cache.append(key, b"1", ttl=self.options.lease_ttl_s, max_items=10)
        return held is None or held == 1  # None: Redis is down, this instance drives alone

    async def _release(self, conversation_id: str) -> None:
        await self.cache.delete(watch_lease_key(conversation_id))

    async def _exclusive(self, owner: str, conversation_id: str, work: Any, *, wait_s: float = 60.0) -> None:
        """Run ``work`` holding the run's lease (waiting for a driver's current line to end)."""
        for _ in range(int(wait_s / 0.1)):
            if await self._lease(conversation_id):
                break
            await asyncio.sleep(0.1)
        else:
            await self.emit(owner, conversation_id, "error", error_data(WatchBusy()))
            return
        try:
            await work(owner, conversation_id)
        except AppError as exc:
            await self.emit(owner, conversation_id, "error", error_data(exc))
        finally:
            await self._release(conversation_id)
            await self._resume_driver(owner, conversation_id)

    async def _ensure_driver(self, owner: str, conversation_id: str) -> None:
        if await self._lease(conversation_id):
            self.background.spawn(self._drive(owner, conversation_id), name="watch_driver")

    async def _drive(self, owner: str, conversation_id: str) -> None:
        """Speak line after line while the run is ``playing`` (the lease is already ours)."""
        try:
            while True:
                conv = await self.runs.engine.conversation(owner, conversation_id)
                state = public_state(conv)
                if state["state"] != "playing":
                    return
                if self.budget is not None:
                    await self.budget.spend(owner)  # one unit of the learner's daily budget per line
                await self._step(owner, conversation_id)
                await self.cache.touch(watch_lease_key(conversation_id), ttl=self.options.lease_ttl_s)
                await asyncio.sleep(self.options.line_pause_s / float(state["speed"] or 1.0))
        except AppError as exc:
            await self.emit(owner, conversation_id, "error", error_data(exc))
            # A run that cannot speak (daily budget, model down...) waits instead of trying again and again.
            with contextlib.suppress(AppError):
                conv = await self.runs.control(owner, conversation_id, "pause")
                await self.emit(owner, conversation_id, "state", public_state(conv))
        finally:
            await self._release(conversation_id)

    async def hold(self, owner: str, conversation_id: str, *, wait_s: float) -> None:
        """Take the run's lease for an HTTP line (``next``/``join``), waiting up to ``wait_s`` for a line being
        spoken by a step or a stopping driver; ``WatchBusy`` when someone keeps speaking (a playing driver)."""
        await self.log(conversation_id).ensure(owner)
        for _ in range(max(1, int(wait_s / 0.1))):
            if await self._lease(conversation_id):
                return
            await asyncio.sleep(0.1)
        raise WatchBusy()

    async def release(self, conversation_id: str) -> None:
        await self._release(conversation_id)

    async def logged(
        self, owner: str, conversation_id: str, events: AsyncGenerator[TurnEvent, None]
    ) -> AsyncGenerator[TurnEvent, None]:
        """An HTTP line's events, also recorded in the run's log (so socket clients see each line once), with
        the lease taken by ``hold`` released at the end."""
        try:
            async for event in events:
                name, data = event_payload(event)
                await self.emit(owner, conversation_id, name, data)
                yield event
        finally:
            await self._release(conversation_id)
            await self._resume_driver(owner, conversation_id)

    async def _resume_driver(self, owner: str, conversation_id: str) -> None:
        """After a step or an HTTP line released the lease: a ``play`` that came meanwhile found the lease taken
        and started no driver, so start it now if the run is playing."""
        with contextlib.suppress(AppError):
            conv = await self.runs.engine.conversation(owner, conversation_id)
            if public_state(conv)["state"] == "playing":
                await self._ensure_driver(owner, conversation_id)


def error_data(exc: AppError) -> dict[str, Any]:
    """An error event's data: code, the Japanese message and the error's public fields (e.g. ``resets_at``)."""
    data: dict[str, Any] = {"code": exc.code, "message": exc.message_ja}
    data.update({k: exc.extra.get(k) for k in exc.public_extra})
    if "retry_after" in exc.extra:
        data["retry_after"] = exc.extra["retry_after"]
    return data
