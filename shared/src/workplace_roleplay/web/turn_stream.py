"""One turn of the shared pipeline as an SSE stream (chat today; scenario and watch reuse it).

The turn runs in its own task, so a client that goes away cancels it cleanly: the pipeline stores
the partial reply (edge-triggered asyncio cancellation lets it still write), the closing event goes
into the replay buffer, and the HTTP response merely stops reading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.events import (
    AnalysisReady,
    LineDone,
    LineStarted,
    ModeEvent,
    Token,
    TurnDone,
    TurnEvent,
    TurnStarted,
    error_for_code,
)
from workplace_roleplay.domain.conversation.records import reply_message_id
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import AnotherTurnInProgress, AppError, InvalidInput, NotFound, TurnInProgress
from workplace_roleplay.ports import Cache
from workplace_roleplay.web.context import service_var
from workplace_roleplay.web.metrics import STREAM_FIRST_TOKEN
from workplace_roleplay.web.sse import (
    SSE_HEADERS,
    TERMINAL,
    SseEvent,
    StreamBuffer,
    follow,
    parse_event_id,
    with_heartbeats,
)

_END = object()


def event_payload(event: TurnEvent) -> tuple[str, dict[str, Any]]:
    """The SSE event name and JSON data of a pipeline event."""
    if isinstance(event, Token):
        return "token", {"text": event.text}
    if isinstance(event, AnalysisReady):
        return "analysis", {"message_id": event.message_id, **event.analysis}
    if isinstance(event, TurnStarted):
        data = asdict(event)
        data.pop("replayed")
        return "start", data
    if isinstance(event, LineStarted):
        return "line", asdict(event)
    if isinstance(event, LineDone):
        return "line_done", asdict(event)
    if isinstance(event, ModeEvent):
        return event.name, dict(event.data)
    if isinstance(event, TurnDone):
        data = asdict(event)
        data["usage"] = {"input_tokens": data.pop("input_tokens"), "output_tokens": data.pop("output_tokens")}
        return "done", data
    data = asdict(event)
    data["message"] = data.pop("message_ja")
    return "error", data


class TurnStream:
    """Runs a turn's events through the replay buffer into a queue the response reads."""

    def __init__(
        self,
        events: AsyncGenerator[TurnEvent, None],
        *,
        cache: Cache,
        owner: str,
        buffer_ttl_s: int,
        sealer: TextSealer,
        background: BackgroundWork,
    ) -> None:
        self.events = events
        self.cache = cache
        self.owner = owner
        self.buffer_ttl_s = buffer_ttl_s
        self.sealer = sealer
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.buffer: StreamBuffer | None = None
        self.task = background.spawn(self._produce(), name="turn_stream")

    async def _produce(self) -> None:
        text: list[str] = []
        started: TurnStarted | None = None
        finished = False
        try:
            async for event in self.events:
                if isinstance(event, TurnStarted):
                    started = event
                    self.buffer = StreamBuffer(self.cache, event.turn_id, ttl_s=self.buffer_ttl_s, sealer=self.sealer)
                    if event.replayed and await self._serve_recorded(self.buffer):
                        await self.events.aclose()
                        self.queue.put_nowait(_END)
                        return
                    await self.buffer.open(self.owner)
                if isinstance(event, Token):
                    text.append(event.text)
                name, data = event_payload(event)
                item = SseEvent(name, data) if self.buffer is None else await self.buffer.record(name, data)
                finished = name in TERMINAL
                self.queue.put_nowait(item)
            self.queue.put_nowait(_END)
        except (asyncio.CancelledError, GeneratorExit):
            # The client left: let the pipeline store its partial reply, then close the buffer.
            await self.events.aclose()
            if started is not None and self.buffer is not None and not finished:
                await self.buffer.record(
                    "done",
                    {
                        "conversation_id": started.conversation_id,
                        "turn_id": started.turn_id,
                        "learner_message_id": started.learner_message_id,
                        "reply_message_id": reply_message_id(started.turn_id) if text else None,
                        "text": "".join(text),
                        "status": "partial" if text else "failed",
                        "interrupted": True,
                    },
                )
            raise
        except Exception as exc:  # handed to the reader, which raises it in the request
            self.queue.put_nowait(exc)

    async def _serve_recorded(self, buffer: StreamBuffer) -> bool:
        """Answer a replayed turn with its original buffered events, numbering untouched (False: none).

        Rewriting the buffer would renumber it under a client that resumes the original stream with
        ``Last-Event-ID``; only a buffer that expired (or never closed) is written afresh.
        """
        try:
            recorded = await buffer.replay(self.owner, 0)
        except NotFound:
            return False
        if not recorded or recorded[-1].event not in TERMINAL or recorded[-1].data.get("code") == "stream_unreadable":
            return False
        for item in recorded:
            data = {**item.data, "replayed": True} if item.event == "done" else item.data
            self.queue.put_nowait(SseEvent(item.event, data, item.id))
        return True

    async def _next(self) -> object:
        item = await self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def first(self) -> list[SseEvent]:
        """Events up to the first model event, read before the response commits to 200.

        A failure before any reply text (or any error the pipeline raised) is raised here, so the
        client gets a plain HTTP error instead of a 200 stream that only says "error".
        """
        head: list[SseEvent] = []
        while True:
            item = await self._next()
            if item is _END:
                return head
            assert isinstance(item, SseEvent)
            head.append(item)
            if item.event == "error" and not item.data.get("partial_text"):
                error = error_for_code(str(item.data.get("code", "")))
                raise error(extra={"turn_id": item.data.get("turn_id")})
            if item.event != "start":
                return head

    async def rest(self) -> AsyncIterator[SseEvent]:
        """The remaining events; leaving early (client gone) cancels the turn."""
        try:
            while True:
                try:
                    item = await self._next()
                except AppError as exc:  # after the 200: the failure travels as an event
                    yield SseEvent("error", {"code": exc.code, "message": exc.message_ja})
                    return
                if item is _END:
                    return
                assert isinstance(item, SseEvent)
                yield item
        finally:
            if not self.task.done():
                self.task.cancel()

    def cancel(self) -> None:
        if not self.task.done():
            self.task.cancel()


def wants_json(request: Request) -> bool:
    """``Accept: application/json`` (without ``text/event-stream``) asks for the whole turn at once."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/event-stream" not in accept


async def collect(stream: TurnStream) -> dict[str, Any]:
    """Run the turn to its end and gather it into one JSON body."""
    result: dict[str, Any] = {"text": "", "analysis": None, "error": None}
    text: list[str] = []
    head = await stream.first()
    async for event in _chain(head, stream.rest()):
        if event.event == "start":
            result.update(event.data)
        elif event.event == "token":
            text.append(str(event.data.get("text", "")))
        elif event.event == "analysis":
            result["analysis"] = event.data
        elif event.event == "done":
            result.update(event.data)
        elif event.event == "error":
            result["error"] = {"code": event.data.get("code"), "message": event.data.get("message")}
            result["status"] = "partial" if event.data.get("partial_text") else "failed"
            result["reply_message_id"] = event.data.get("reply_message_id")
    result["text"] = result.get("text") or "".join(text)
    return result


async def _chain(head: list[SseEvent], rest: AsyncIterator[SseEvent]) -> AsyncIterator[SseEvent]:
    for event in head:
        yield event
    async for event in rest:
        yield event


async def _timed_first_token(request: Request, events: AsyncIterator[SseEvent]) -> AsyncIterator[SseEvent]:
    """Pass events through, observing the learner's wait up to the first ``token`` event sent."""
    state = request.scope.get("state") or {}
    started = state.get("request_started")
    # Without the request middleware (bare apps in tests) the wait starts when the turn does.
    origin = started if isinstance(started, float) else time.perf_counter()
    route = getattr(request.scope.get("route"), "path", None) or request.url.path
    seen = False
    async for event in events:
        if not seen and event.event == "token":
            seen = True
            # Observed as the event is handed to the response, which writes it before asking for more.
            STREAM_FIRST_TOKEN.labels(service_var.get() or "unknown", route).observe(time.perf_counter() - origin)
        yield event


async def turn_response(
    request: Request,
    events: AsyncGenerator[TurnEvent, None],
    *,
    cache: Cache,
    owner: str,
    buffer_ttl_s: int,
    sealer: TextSealer,
    heartbeat_s: float,
    background: BackgroundWork,
) -> Response:
    """The turn as SSE (default) or as one JSON body; the first model event is read before the 200."""
    stream = TurnStream(
        events, cache=cache, owner=owner, buffer_ttl_s=buffer_ttl_s, sealer=sealer, background=background
    )
    if wants_json(request):
        return JSONResponse(await collect(stream))
    try:
        head = await stream.first()
    except TurnInProgress as exc:
        stream.cancel()
        if isinstance(exc, AnotherTurnInProgress):
            raise  # another line is being answered: one turn at a time (ADR 0010)
        # The same client message is still being answered (a retry after a dropped connection):
        # follow that turn's live buffer instead of refusing.
        turn_id = str(exc.extra.get("turn_id", ""))
        try:
            return await resume_response(
                cache,
                owner=owner,
                last_event_id=f"{turn_id}.0",
                buffer_ttl_s=buffer_ttl_s,
                sealer=sealer,
                heartbeat_s=heartbeat_s,
            )
        except (NotFound, InvalidInput):
            raise exc from None
    except BaseException:
        stream.cancel()
        raise
    return StreamingResponse(
        with_heartbeats(_timed_first_token(request, _chain(head, stream.rest())), every_s=heartbeat_s),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def resume_response(
    cache: Cache, *, owner: str, last_event_id: str, buffer_ttl_s: int, sealer: TextSealer, heartbeat_s: float
) -> Response:
    """Replay a turn's events after ``Last-Event-ID`` (and follow it live until it ends)."""
    parsed = parse_event_id(last_event_id)
    if parsed is None:
        raise InvalidInput("Last-Event-ID must look like '<turn_id>.<n>'")
    turn_id, seq = parsed
    buffer = StreamBuffer(cache, turn_id, ttl_s=buffer_ttl_s, sealer=sealer)
    await buffer.replay(owner, seq)  # NotFound (404) before the 200 when there is nothing to resume
    return StreamingResponse(
        with_heartbeats(follow(buffer, owner, seq, poll_s=0.2, give_up_s=120.0), every_s=heartbeat_s),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
