"""The live transport of a watch run (docs/watch-protocol.md): a WebSocket, and SSE + POST for clients that
cannot open one. Both carry the same JSON events with the same ids from the run's log (``live.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.status import WS_1008_POLICY_VIOLATION, WS_1009_MESSAGE_TOO_BIG, WS_1013_TRY_AGAIN_LATER
from starlette.types import ASGIApp, Receive, Scope, Send

from functions.watch.deps import RequestAllowed
from functions.watch.live import LiveRuns, error_data
from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.errors import AppError, ConversationNotFound, InvalidInput, RateLimited
from workplace_roleplay.settings import WatchSettings
from workplace_roleplay.web.auth import CurrentUser, SocketUser
from workplace_roleplay.web.sse import SSE_HEADERS, SseEvent, with_heartbeats

live_router = APIRouter(prefix=load_catalog().get("watch").api_prefix, tags=["watch"])
IDLE_CLOSE = 4408  # no message from the client within WATCH_SOCKET_IDLE_S
NOT_FOUND_CLOSE = 4404
SOCKET_HIGH_WATER_BYTES = 64 * 1024  # unsent bytes of one socket before its events wait in its queue


TRANSPORT_SCOPE_KEY = "watch.transport"


class SocketTransportProbe:
    """ASGI middleware (outermost): notes the server's transport under a WebSocket in its scope, to read how much
    it has not sent yet. uvicorn's ``send`` is a method of its protocol object, which holds the transport; a
    server that exposes none leaves the socket without backpressure (as ASGI itself has none)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if isinstance(transport, asyncio.WriteTransport):
                scope[TRANSPORT_SCOPE_KEY] = transport
        await self.app(scope, receive, send)


def socket_transport(websocket: WebSocket) -> asyncio.WriteTransport | None:
    transport = websocket.scope.get(TRANSPORT_SCOPE_KEY)
    return transport if isinstance(transport, asyncio.WriteTransport) else None


async def writable(transport: asyncio.WriteTransport | None, *, within_s: float) -> bool:
    """True once ``transport`` holds at most SOCKET_HIGH_WATER_BYTES unsent, False if it still holds more after
    ``within_s`` (polled every 50 ms: asyncio offers no event for it)."""
    if transport is None:
        return True
    for _ in range(max(1, math.ceil(within_s / 0.05))):
        if transport.get_write_buffer_size() <= SOCKET_HIGH_WATER_BYTES or transport.is_closing():
            return True
        await asyncio.sleep(0.05)
    return transport.get_write_buffer_size() <= SOCKET_HIGH_WATER_BYTES


def _live(app: Any) -> LiveRuns:
    live: LiveRuns = app.state.watch_live
    return live


def _after(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not value.isdigit() or len(value) > 9:
        raise InvalidInput("last_event_id must be a number")
    return int(value)


# Commands that make the model speak spend the learner's "model" rate limit, like the HTTP routes that do.
MODEL_COMMANDS = frozenset({"play", "resume", "leave", "continue", "step", "join", "quiz", "takes"})
# Commands that call the model themselves also spend the daily budget; play/resume/leave/continue only start
# the driver, which spends one unit per line it speaks (live.py).
BUDGET_COMMANDS = frozenset({"step", "join", "quiz", "takes"})


async def spend_model_call(app: Any, user_id: str, message: dict[str, Any]) -> None:
    """One hit on ``user:{id}:model`` for a command that calls the model (RateLimited when over), then one unit
    of the daily model budget for a command that calls the model itself (DailyBudgetExceeded when used up)."""
    settings: WatchSettings = app.state.settings
    kind = message.get("type")
    if kind in MODEL_COMMANDS and settings.RATE_LIMIT_ENABLED:
        limit, period = settings.rate_rule("model", "user")
        decision = await app.state.resources.rate_limiter.hit(f"user:{user_id}:model", limit=limit, period_s=period)
        if not decision.allowed:
            raise RateLimited(decision.retry_after_header, detail="user limit of route class model (watch command)")
    if kind in BUDGET_COMMANDS:
        await app.state.resources.model_budget.spend(user_id)


def _frame(event: SseEvent) -> str:
    return json.dumps({"id": event.id, "event": event.event, "data": event.data}, ensure_ascii=False)


@live_router.websocket("/ws/{conversation_id}")
async def watch_socket(
    websocket: WebSocket, conversation_id: str, user: SocketUser, last_event_id: str | None = None
) -> None:
    live, settings = _live(websocket.app), websocket.app.state.settings
    assert isinstance(settings, WatchSettings)
    try:
        after = _after(last_event_id)
        await live.open(user.user_id, conversation_id)
    except (ConversationNotFound, InvalidInput) as exc:
        await websocket.close(NOT_FOUND_CLOSE if isinstance(exc, ConversationNotFound) else WS_1008_POLICY_VIOLATION)
        return
    await websocket.accept()
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=settings.WATCH_SEND_QUEUE)
    stop = asyncio.Event()

    async def alive() -> bool:
        return not stop.is_set()

    async def produce() -> None:
        # The run's log in Redis is the backlog: events are read from it at the client's pace (a full queue
        # waits), so a reconnect replaying a long run is not mistaken for a slow client.
        async for event in live.follow(user.user_id, conversation_id, after, alive=alive):
            frame = _frame(event)
            while not stop.is_set():
                try:
                    await asyncio.wait_for(queue.put(frame), timeout=0.5)
                    break
                except TimeoutError:
                    continue

    transport = socket_transport(websocket)

    async def send() -> None:
        while True:
            frame = await queue.get()
            # ASGI has no backpressure (uvicorn's default WebSocket protocol writes into an unbounded transport
            # buffer): wait while the socket's own buffer is full, and close a client whose socket takes
            # nothing for WATCH_SOCKET_STALL_S instead of buffering for it without bound; it resumes from its
            # last id.
            if not await writable(transport, within_s=settings.WATCH_SOCKET_STALL_S):
                stop.set()
                with contextlib.suppress(Exception):
                    await websocket.close(WS_1013_TRY_AGAIN_LATER, reason="client too slow")
                return
            await websocket.send_text(frame)

    producer, sender = asyncio.create_task(produce()), asyncio.create_task(send())
    try:
        await _receive(websocket, live, user.user_id, conversation_id, settings, stop)
    finally:
        stop.set()
        sender.cancel()
        await asyncio.wait({producer, sender}, timeout=3.0)
        producer.cancel()


async def _receive(
    websocket: WebSocket, live: LiveRuns, owner: str, conversation_id: str, settings: WatchSettings, stop: asyncio.Event
) -> None:
    """Client messages until it leaves, stays silent too long, sends too much, or is closed as too slow."""
    while not stop.is_set():
        try:
            message = await asyncio.wait_for(websocket.receive(), timeout=settings.WATCH_SOCKET_IDLE_S)
        except TimeoutError:
            await websocket.close(IDLE_CLOSE, reason="idle")
            return
        except RuntimeError:  # closed by the producer (slow client)
            return
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
        if len(text.encode()) > settings.WATCH_SOCKET_MAX_MESSAGE_BYTES:
            await websocket.close(WS_1009_MESSAGE_TOO_BIG, reason="message too big")
            return
        await _handle(websocket, live, owner, conversation_id, text)


async def _handle(websocket: WebSocket, live: LiveRuns, owner: str, conversation_id: str, text: str) -> None:
    try:
        message = json.loads(text)
        if not isinstance(message, dict):
            raise InvalidInput("a message is a JSON object")
        if message.get("type") == "ping":
            await websocket.send_text(json.dumps({"event": "pong", "data": {}}))
            return
        await spend_model_call(websocket.app, owner, message)
        await live.command(owner, conversation_id, message)
    except ValueError:
        await websocket.send_text(
            json.dumps({"event": "error", "data": {"code": "invalid_input", "message": "JSON を送ってください。"}})
        )
    except AppError as exc:
        await websocket.send_text(json.dumps({"event": "error", "data": error_data(exc)}, ensure_ascii=False))


@live_router.get(
    "/conversations/{conversation_id}/events",
    summary="SSE fallback of the WebSocket: the run's events after Last-Event-ID (or ?last_event_id)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}, 404: {}},
    dependencies=[RequestAllowed],
)
async def watch_events(
    conversation_id: str,
    request: Request,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Query(max_length=9)] = None,
    header_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=9)] = None,
) -> StreamingResponse:
    live, settings = _live(request.app), request.app.state.settings
    after = _after(header_id or last_event_id)
    await live.open(user.user_id, conversation_id)

    async def alive() -> bool:
        return not await request.is_disconnected()

    async def body() -> AsyncIterator[SseEvent]:
        async for event in live.follow(user.user_id, conversation_id, after, alive=alive):
            yield event

    return StreamingResponse(
        with_heartbeats(body(), every_s=settings.SSE_HEARTBEAT_S), media_type="text/event-stream", headers=SSE_HEADERS
    )


@live_router.post(
    "/conversations/{conversation_id}/commands",
    status_code=202,
    summary="SSE fallback: one control message (same JSON as over the WebSocket)",
    dependencies=[RequestAllowed],
)
async def watch_command(
    conversation_id: str,
    request: Request,
    user: CurrentUser,
    message: Annotated[dict[str, Any], Body()],
) -> dict[str, str]:
    live = _live(request.app)
    await live.runs.engine.conversation(user.user_id, conversation_id)
    await spend_model_call(request.app, user.user_id, message)
    await live.command(user.user_id, conversation_id, message)
    return {"status": "accepted"}
