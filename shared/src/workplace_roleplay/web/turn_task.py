"""A turn's events run in their own task, through the replay buffer, into a queue the response reads.

The turn runs in its own task, so a client that goes away cancels it cleanly: the pipeline stores
the partial reply (edge-triggered asyncio cancellation lets it still write), the closing event goes
into the replay buffer, and the HTTP response merely stops reading. A replayed turn is answered with
its original buffered events, so their numbering never changes under a resuming client (ADR 0010).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import asdict
from typing import Any

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
from workplace_roleplay.errors import AppError, NotFound
from workplace_roleplay.ports import Cache
from workplace_roleplay.web.sse import TERMINAL, SseEvent, StreamBuffer

_END = object()
FLUSH_S = 0.1  # the longest a token after the first waits for the batch it is buffered and sent with
FLUSH_MAX = 16  # ... or until this many events are staged


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
    """Runs a turn's events through the replay buffer into a queue the response reads.

    Events go to the buffer in batches (ADR 0030): ``start`` waits for the first model event, the first
    token goes out at once, later tokens wait up to ``FLUSH_S`` (or until ``FLUSH_MAX`` are staged) and
    any other event flushes what is staged with it. Each batch is one Redis round trip, then one item of
    the queue (one chunk, one socket write); nothing reaches the learner before it is in the buffer.
    """

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
        self._timer: asyncio.TimerHandle | None = None
        self._timed_flush: asyncio.Task[None] | None = None
        self.task = background.spawn(self._produce(), name="turn_stream")

    async def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.buffer is not None:
            events = await self.buffer.flush()
            if events:  # handed on before the next await: batches queue in the order they were buffered
                self.queue.put_nowait(events)

    def _flush_later(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timed_flush = asyncio.ensure_future(self._flush())

    def _stage(self, name: str, data: dict[str, Any], *, tokens_sent: bool) -> bool:
        """Stage the event; True when it must be flushed now."""
        assert self.buffer is not None
        self.buffer.stage(name, data)
        if name == "start":
            return False  # nothing is sent before the first model event anyway (TurnStream.first)
        if name == "token" and tokens_sent and self.buffer.staged < FLUSH_MAX:
            self._flush_later()
            return False
        return True

    async def _produce(self) -> None:
        text: list[str] = []
        started: TurnStarted | None = None
        finished = False
        tokens_sent = False
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
                finished = name in TERMINAL
                if self.buffer is None:
                    self.queue.put_nowait([SseEvent(name, data)])
                elif self._stage(name, data, tokens_sent=tokens_sent):
                    tokens_sent = tokens_sent or name == "token"
                    await self._flush()
            await self._flush()
            self.queue.put_nowait(_END)
        except (asyncio.CancelledError, GeneratorExit):
            # The client left: let the pipeline store its partial reply, then close the buffer.
            self._cancel_timer()
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
            with contextlib.suppress(Exception):
                await self._flush()  # what was produced before the failure still reaches the learner
            self.queue.put_nowait(exc)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

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
        self.queue.put_nowait(
            [
                SseEvent(item.event, {**item.data, "replayed": True} if item.event == "done" else item.data, item.id)
                for item in recorded
            ]
        )
        return True

    async def _next(self) -> object:
        item = await self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def first(self) -> list[SseEvent]:
        """Events up to the first model event, read before the response commits to 200.

        A failure before any reply text (or any error the pipeline raised) is raised here, so the
        client gets a plain HTTP error instead of a 200 stream that only says "error". Events of the
        same batch after the first model event stay in ``head`` (nothing is lost or reordered).
        """
        head: list[SseEvent] = []
        while True:
            item = await self._next()
            if item is _END:
                return head
            assert isinstance(item, list)
            for event in item:
                head.append(event)
                if event.event == "error" and not event.data.get("partial_text"):
                    error = error_for_code(str(event.data.get("code", "")))
                    raise error(extra={"turn_id": event.data.get("turn_id")})
            if any(event.event != "start" for event in item):
                return head

    async def batches(self) -> AsyncGenerator[list[SseEvent], None]:
        """The remaining events, a buffered batch at a time; leaving early (client gone) cancels the turn."""
        try:
            while True:
                try:
                    item = await self._next()
                except AppError as exc:  # after the 200: the failure travels as an event
                    yield [SseEvent("error", {"code": exc.code, "message": exc.message_ja})]
                    return
                if item is _END:
                    return
                assert isinstance(item, list)
                yield item
        finally:
            if not self.task.done():
                self.task.cancel()

    async def rest(self) -> AsyncIterator[SseEvent]:
        """The remaining events one by one (see ``batches``)."""
        async with aclosing(self.batches()) as batches:
            async for batch in batches:
                for event in batch:
                    yield event

    def cancel(self) -> None:
        if not self.task.done():
            self.task.cancel()
