"""One turn of the shared pipeline as an HTTP response: SSE (default) or one JSON body, and the resume
of a turn's stream after ``Last-Event-ID`` (chat today; scenario and watch reuse it). The turn itself
runs in its own task (``turn_task.py``)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from workplace_roleplay import telemetry, tracing
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.events import (
    TurnEvent,
)
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import AnotherTurnInProgress, InvalidInput, NotFound, TurnInProgress
from workplace_roleplay.ports import Cache
from workplace_roleplay.web.context import service_var
from workplace_roleplay.web.metrics import STREAM_FIRST_TOKEN
from workplace_roleplay.web.sse import (
    SSE_HEADERS,
    SseEvent,
    StreamBuffer,
    follow,
    parse_event_id,
    with_heartbeats,
)
from workplace_roleplay.web.turn_task import TurnStream


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
        elif event.event not in ("line", "line_done"):
            result.setdefault("mode_events", {})[event.event] = event.data  # a mode's own (e.g. scenario mood)
    result["text"] = result.get("text") or "".join(text)
    return result


async def _chain(head: list[SseEvent], rest: AsyncIterator[SseEvent]) -> AsyncIterator[SseEvent]:
    for event in head:
        yield event
    async for event in rest:
        yield event


async def _batches(head: list[SseEvent], rest: AsyncIterator[list[SseEvent]]) -> AsyncIterator[list[SseEvent]]:
    yield head
    async for batch in rest:
        yield batch


async def _timed_first_token(request: Request, batches: AsyncIterator[list[SseEvent]]) -> AsyncIterator[list[SseEvent]]:
    """Pass batches of events through, observing the learner's wait up to the first ``token`` event sent."""
    state = request.scope.get("state") or {}
    started = state.get("request_started")
    # Without the request middleware (bare apps in tests) the wait starts when the turn does.
    origin = started if isinstance(started, float) else time.perf_counter()
    route = getattr(request.scope.get("route"), "path", None) or request.url.path
    seen = False
    async for batch in batches:
        for event in batch:
            if not seen and event.event == "token":
                seen = True
                # Observed as the batch is handed to the response, which writes it before asking for more.
                STREAM_FIRST_TOKEN.labels(service_var.get() or "unknown", route).observe(
                    time.perf_counter() - origin, exemplar=tracing.exemplar()
                )
            elif event.event == "error":  # after the 200: still an error the learner sees (ADR 0028)
                telemetry.LEARNER_ERRORS.labels(
                    service_var.get() or "unknown", route, str(event.data.get("code"))
                ).inc()
        yield batch


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
        with_heartbeats(_timed_first_token(request, _batches(head, stream.batches())), every_s=heartbeat_s),
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
