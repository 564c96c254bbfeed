"""Server-sent events: framing, heartbeats, and the per-turn replay buffer behind ``Last-Event-ID``.

Every event of a turn is appended to ``stream:{turn_id}`` (Cache port, TTL) as it is sent, with its
id ``{turn_id}.{n}``; a client that lost the connection reconnects with ``Last-Event-ID`` and gets
the events after ``n`` (and the rest live, if the turn is still running elsewhere). The buffer's
first item names the owner, so one learner cannot read another's stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from workplace_roleplay.errors import NotFound
from workplace_roleplay.ports import Cache

TERMINAL = frozenset({"done", "error"})
HEARTBEAT = b": ping\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str
    data: dict[str, Any]
    id: str = ""

    def encode(self) -> bytes:
        lines = []
        if self.id:
            lines.append(f"id: {self.id}")
        lines.append(f"event: {self.event}")
        # JSON never contains a raw newline, so one ``data:`` line carries the whole payload.
        lines.append("data: " + json.dumps(self.data, ensure_ascii=False, separators=(",", ":")))
        return ("\n".join(lines) + "\n\n").encode()


def parse_event_id(value: str | None) -> tuple[str, int] | None:
    """``{turn_id}.{n}`` -> (turn_id, n); None for anything else."""
    if not value:
        return None
    turn_id, _, seq = value.strip().rpartition(".")
    if not turn_id or not seq.isdigit() or not turn_id.isalnum() or len(turn_id) > 64:
        return None
    return turn_id, int(seq)


def stream_key(turn_id: str) -> str:
    return f"stream:{turn_id}"


async def drop_stream_buffers(cache: Cache, turn_ids: Sequence[str]) -> None:
    """Delete the replay buffers of these turns (their conversation was deleted)."""
    if turn_ids:
        await cache.delete(*(stream_key(t) for t in turn_ids))


class StreamBuffer:
    """The replay buffer of one turn's events."""

    def __init__(self, cache: Cache, turn_id: str, *, ttl_s: int) -> None:
        self.cache = cache
        self.turn_id = turn_id
        self.key = stream_key(turn_id)
        self.ttl_s = ttl_s
        self.seq = 0

    async def open(self, owner: str) -> None:
        await self.cache.delete(self.key)
        await self.cache.append(self.key, json.dumps({"owner": owner}).encode(), ttl=self.ttl_s)

    async def record(self, event: str, data: dict[str, Any]) -> SseEvent:
        """Number the event, buffer it, and return it ready to send."""
        self.seq += 1
        item = SseEvent(event, data, f"{self.turn_id}.{self.seq}")
        payload = {"event": event, "data": data, "id": item.id}
        await self.cache.append(self.key, json.dumps(payload, ensure_ascii=False).encode(), ttl=self.ttl_s)
        return item

    async def replay(self, owner: str, after: int) -> list[SseEvent]:
        """Buffered events numbered above ``after``; NotFound for a missing or foreign buffer."""
        items = await self.cache.read_list(self.key)
        if not items or json.loads(items[0]).get("owner") != owner:
            raise NotFound("no such stream")
        events = [json.loads(raw) for raw in items[1:]]
        return [SseEvent(e["event"], e["data"], e["id"]) for e in events[after:]]


async def follow(
    buffer: StreamBuffer, owner: str, after: int, *, poll_s: float, give_up_s: float
) -> AsyncIterator[SseEvent]:
    """Replay, then keep reading the buffer until a terminal event (a turn running on another instance)."""
    waited = 0.0
    seen = after
    while True:
        batch = await buffer.replay(owner, seen)
        for event in batch:
            yield event
            if event.event in TERMINAL:
                return
        seen += len(batch)
        if waited >= give_up_s:
            yield SseEvent(
                "error", {"code": "stream_expired", "message": "接続が切れました。会話を再読み込みしてください。"}
            )
            return
        await asyncio.sleep(poll_s)
        waited += poll_s


async def with_heartbeats(events: AsyncIterator[SseEvent], *, every_s: float) -> AsyncIterator[bytes]:
    """Encode events, sending a comment when nothing else was sent for ``every_s`` seconds."""
    # Cloud Run and proxies end idle responses, so ping while the model (or the coach) is thinking.
    iterator = aiter(events)
    pending: asyncio.Task[SseEvent] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=every_s)
            if not done:
                yield HEARTBEAT
                continue
            task, pending = pending, None
            try:
                event = task.result()
            except StopAsyncIteration:
                return
            yield event.encode()
    finally:
        if pending is not None:
            pending.cancel()
